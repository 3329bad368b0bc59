"""The directory's rules across entries, written once: the directory file, the console's forms,
the JSON API and the CSV import all check entries here.

An entry is checked against what it may refer to and must not clash with (``Known``): for a
directory file, the other entries of the file; for a console form, an API call or a CSV
file, what the database holds. Each problem names the key it is about and says, in one
sentence, what is wrong and how to fix it; the file reports it with the entry's place
(``devices[3] (id "btn-0004")``), a form beside the field.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import devices
from monitor.directory.model import (
    DEFAULT_POLICY_ID,
    ROLES,
    VOLUNTEER_PHONE_PROTOCOLS,
    Area,
    Device,
    Directory,
    Entry,
    Policy,
    Resident,
    Volunteer,
)
from monitor.oncall.family import FAMILY_TARGET
from monitor.store import models

#: The sections of a directory, in the order a file lists them.
SECTIONS: tuple[str, ...] = ("organisations", "areas", "residents", "devices", "volunteers", "policies")


@dataclass(frozen=True, slots=True)
class Problem:
    #: the entry's key it is about ("area", "tiers", ...); "" for the entry as a whole
    key: str
    #: what is wrong and how to fix it, one sentence without the entry's name
    message: str

    @property
    def sentence(self) -> str:
        """The message naming its key, for a place that shows no form field beside it."""
        return self.message if not self.key or self.message.startswith(self.key) else f"{self.key}: {self.message}"


@dataclass(frozen=True)
class Known:
    """What entries may refer to, and what they must not clash with."""

    organisations: Collection[str] = frozenset()
    areas: Collection[str] = frozenset()
    residents: Collection[str] = frozenset()
    #: volunteer id -> whether they agreed to share their phone's position
    volunteers: Mapping[str, bool] = field(default_factory=dict)
    policies: Collection[str] = frozenset()
    #: areas and policies retired (``active = false``): nobody and nothing active may be in or follow them
    retired_areas: Collection[str] = frozenset()
    retired_policies: Collection[str] = frozenset()
    #: residents with a GPS device (a safe zone needs one)
    tracked_residents: Collection[str] = frozenset()
    #: "<protocol> <ref>" -> the device using it, and phone -> the volunteer with it (others' entries)
    device_refs: Mapping[str, str] = field(default_factory=dict)
    volunteer_phones: Mapping[str, str] = field(default_factory=dict)


def device_key(device: Device) -> str:
    """What makes a device's messages its own: its protocol and the reference its adapter reads."""
    return f"{device.protocol} {devices.registry()[device.protocol].device_ref(device.profile())}"


def entry_problems(entry: Entry, known: Known) -> list[Problem]:
    """Every broken reference or clash of one entry."""
    problems = _references(entry, known)
    owner = getattr(entry, "organisation", None)
    if owner is not None and owner not in known.organisations:
        problems.insert(
            0,
            Problem(
                "organisation", f'organisation "{owner}" does not exist; add it to [[organisations]] or fix the id'
            ),
        )
    return problems


def _references(entry: Entry, known: Known) -> list[Problem]:
    if isinstance(entry, Resident):
        return _resident_problems(entry, known)
    if isinstance(entry, Device):
        return _device_problems(entry, known)
    if isinstance(entry, Volunteer):
        return _volunteer_problems(entry, known)
    if isinstance(entry, Area):
        wanted = entry.policy or DEFAULT_POLICY_ID
        if wanted not in known.policies:
            return [Problem("policy", f'escalation policy "{wanted}" does not exist; add it or choose another')]
        if entry.active and wanted in known.retired_policies:
            return [Problem("policy", f'escalation policy "{wanted}" is retired; choose another or bring it back')]
        return []
    if isinstance(entry, Policy):
        return _policy_problems(entry, known)
    return []


def duplicate_problems(section: str, entries: Sequence[Entry]) -> list[Problem]:
    """Values that must be unique within a section but are not."""
    problems = _duplicates("id", [entry.id for entry in entries])
    if section == "volunteers":
        problems += _duplicates("phone", [entry.phone for entry in entries if isinstance(entry, Volunteer)])
    if section == "devices":
        problems += _duplicates("topic", [device_key(entry) for entry in entries if isinstance(entry, Device)])
    if section == "policies":
        kinds = [kind for entry in entries if isinstance(entry, Policy) for kind in entry.kinds]
        problems += _duplicates("kinds", kinds)
    return problems


# -- a directory file ------------------------------------------------------------------------------


def file_problems(directory: Directory) -> list[str]:
    """Every problem of a directory file across its entries, as sentences naming the entry and key."""
    sentences = [
        f"{section}: {problem.message}."
        for section in SECTIONS
        for problem in duplicate_problems(section, getattr(directory, section))
    ]
    known = Known(
        organisations={organisation.id for organisation in directory.organisations},
        areas={area.id for area in directory.areas},
        residents={resident.id for resident in directory.residents},
        volunteers={volunteer.id: volunteer.share_location for volunteer in directory.volunteers},
        policies={policy.id for policy in directory.policies},
        retired_areas={area.id for area in directory.areas if not area.active},
        retired_policies={policy.id for policy in directory.policies if not policy.active},
        tracked_residents={
            device.resident for device in directory.devices if device.kind == "gps_phone" and device.resident
        },
    )
    for section in SECTIONS:
        for index, entry in enumerate(getattr(directory, section)):
            sentences += [
                f'{section}[{index}] (id "{entry.id}"): {problem.sentence}.' for problem in entry_problems(entry, known)
            ]
    return sentences


# -- entries against the database (forms, the API, CSV files) ----------------------------------------


async def database_problems(
    session: AsyncSession, section: str, table: type[models.Base], entries: Sequence[Entry], *, creating: bool
) -> list[Problem]:
    """Every problem of ``entries`` (of one section) against what the database holds and each other."""
    problems = duplicate_problems(section, entries)
    if creating:
        existing = set((await session.scalars(select(table.id))).all())  # type: ignore[attr-defined]
        taken = [entry.id for entry in entries if entry.id in existing]
        problems += [Problem("id", f'"{entry_id}" is already used; choose another id') for entry_id in taken]
    known = await known_in_database(session, exclude={entry.id for entry in entries})
    for entry in entries:
        problems += entry_problems(entry, known)
    return problems


async def known_in_database(session: AsyncSession, *, exclude: Collection[str] = ()) -> Known:
    """What the database holds that entries may refer to; ``exclude``: the entries being saved,
    which cannot clash with their own rows."""
    refs = await session.execute(select(models.Device.protocol, models.Device.ref, models.Device.id))
    phones = await session.execute(select(models.Volunteer.phone, models.Volunteer.id))
    volunteers = await session.execute(select(models.Volunteer.id, models.Volunteer.share_location))
    tracked = await session.scalars(select(models.Device.resident_id).where(models.Device.kind == "gps_phone"))
    areas = dict((await session.execute(select(models.Area.id, models.Area.active))).all())
    policies = dict((await session.execute(select(models.EscalationPolicy.id, models.EscalationPolicy.active))).all())
    return Known(
        organisations=set((await session.scalars(select(models.Organisation.id))).all()),
        areas=set(areas),
        residents=set((await session.scalars(select(models.Resident.id))).all()),
        volunteers={volunteer_id: bool(sharing) for volunteer_id, sharing in volunteers.all()},
        policies=set(policies),
        retired_areas={area_id for area_id, active in areas.items() if not active and area_id not in exclude},
        retired_policies={
            policy_id for policy_id, active in policies.items() if not active and policy_id not in exclude
        },
        tracked_residents=set(tracked.all()),
        device_refs={f"{protocol} {ref}": owner for protocol, ref, owner in refs.all() if owner not in exclude},
        volunteer_phones={phone: owner for phone, owner in phones.all() if owner not in exclude},
    )


# -- the rules, entry by entry ----------------------------------------------------------------------


def _resident_problems(resident: Resident, known: Known) -> list[Problem]:
    problems = []
    if resident.area not in known.areas:
        problems.append(Problem("area", f'area "{resident.area}" does not exist; add it or fix the id'))
    elif resident.active and resident.area in known.retired_areas:
        problems.append(Problem("area", f'area "{resident.area}" is retired; choose another or bring it back'))
    if resident.safe_zone is not None and resident.id not in known.tracked_residents:
        problems.append(
            Problem(
                "safe_zone",
                'safe_zone needs a device of kind "gps_phone" for this resident; add one or remove safe_zone',
            )
        )
    if resident.sms_updates and not resident.phone:
        problems.append(
            Problem("sms_updates", "sms_updates needs the resident's phone; add phone or set sms_updates = false")
        )
    for phone, count in Counter(contact.phone for contact in resident.family or []).items():
        if count > 1:
            problems.append(Problem("family", f'phone "{phone}" is listed {count} times; list each contact once'))
    return problems


def _device_problems(device: Device, known: Known) -> list[Problem]:
    """A device belongs to exactly one resident, or is the phone of a volunteer who agreed to share it."""
    problems = []
    clash = known.device_refs.get(device_key(device))
    if clash is not None and clash != device.id:
        problems.append(Problem("topic", f'device "{clash}" already uses this {device.protocol} topic/serial'))
    if (device.resident is None) == (device.volunteer is None):
        return [
            *problems,
            Problem(
                "",
                "give resident (the resident's device) or volunteer (a volunteer's own phone), exactly one of them",
            ),
        ]
    if device.resident is not None:
        if device.resident not in known.residents:
            problems.append(Problem("resident", f'resident "{device.resident}" does not exist; add it or fix the id'))
        return problems
    volunteer = str(device.volunteer)
    if not device.active:
        problems.append(
            Problem(
                "active", "a volunteer's own phone is not retired by itself; remove its entry or retire the volunteer"
            )
        )
    if volunteer not in known.volunteers:
        problems.append(Problem("volunteer", f'volunteer "{volunteer}" does not exist; add them or fix the id'))
    elif device.protocol not in VOLUNTEER_PHONE_PROTOCOLS:
        problems.append(
            Problem(
                "protocol",
                f'protocol "{device.protocol}" cannot be a volunteer\'s phone; '
                f"use {' or '.join(VOLUNTEER_PHONE_PROTOCOLS)}",
            )
        )
    elif not known.volunteers[volunteer]:
        problems.append(
            Problem(
                "volunteer",
                f'volunteer "{volunteer}" has not agreed to share their position; set share_location = true for '
                "them (with their consent) or remove this device",
            )
        )
    return problems


def _volunteer_problems(volunteer: Volunteer, known: Known) -> list[Problem]:
    problems = [
        Problem("areas", f'area "{area}" does not exist; add it or fix the id')
        for area in volunteer.areas
        if area not in known.areas
    ]
    if volunteer.active:
        problems += [
            Problem("areas", f'area "{area}" is retired; remove it or bring it back')
            for area in volunteer.areas
            if area in known.retired_areas
        ]
    clash = known.volunteer_phones.get(volunteer.phone)
    if clash is not None and clash != volunteer.id:
        problems.append(Problem("phone", f'volunteer "{clash}" already has this number'))
    return problems


def _policy_problems(policy: Policy, known: Known) -> list[Problem]:
    problems = [
        Problem("tiers", f"tier {number}: {problem}")
        for number, tier in enumerate(policy.tiers, start=1)
        for target in tier.notify
        if (problem := _target_problem(target, known.volunteers)) is not None
    ]
    asked = any(FAMILY_TARGET in tier.notify for tier in policy.tiers)
    if FAMILY_TARGET in policy.inform and asked:
        problems.append(
            Problem(
                "inform",
                f'"{FAMILY_TARGET}" is also a tier target of this policy; family contacts are either asked '
                "(in a tier) or only informed, so remove one of them",
            )
        )
    return problems + _follow_through_problems(policy)


#: (key, least, most, what the limits mean) of a policy's follow-through deadlines
FOLLOW_THROUGH_LIMITS: tuple[tuple[str, int, int, str], ...] = (
    ("arrive_within_s", 10, 86400, "up to a day"),
    ("resolve_within_s", 10, 7 * 86400, "up to a week"),
)
#: how close a shared position must come to count as arrived: not closer than a phone can tell, not a district
ARRIVAL_RADIUS_LIMITS = (20, 2000)


def _follow_through_problems(policy: Policy) -> list[Problem]:
    """Deadlines with room for a reminder at half-time, and short enough to still mean something;
    an arrival radius a phone's fix can tell."""
    problems = []
    for key, least, most, meaning in FOLLOW_THROUGH_LIMITS:
        seconds = getattr(policy, key)
        if not least <= seconds <= most:
            problems.append(Problem(key, f"{key} is {seconds}; give between {least} and {most} seconds ({meaning})"))
    least, most = ARRIVAL_RADIUS_LIMITS
    if not least <= policy.arrival_radius_m <= most:
        problems.append(
            Problem(
                "arrival_radius_m",
                f"arrival_radius_m is {policy.arrival_radius_m}; give between {least} and {most} metres",
            )
        )
    return problems


def _target_problem(target: str, volunteers: Collection[str]) -> str | None:
    if target in ("area", FAMILY_TARGET) or target in volunteers:
        return None
    if target.startswith("role:"):
        role = target.removeprefix("role:")
        if role in ROLES:
            return None
        return f'"{target}" names an unknown role; use role:{", role:".join(ROLES)}'
    return f'"{target}" is not "area", "{FAMILY_TARGET}", a role:<role> or an existing volunteer id; fix it'


def _duplicates(key: str, values: Iterable[str]) -> list[Problem]:
    return [
        Problem(key, f'{key} "{value}" is used {count} times; each must be unique')
        for value, count in Counter(values).items()
        if count > 1
    ]

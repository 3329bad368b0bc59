"""Importing a directory file into the database: an idempotent upsert.

Entries are matched by id; new ones are added, changed ones updated, and entries missing
from the file are left as they are (a file may hold one area's people only), unless the
import prunes their section: then the entries it no longer lists are retired
(``monitor.directory.retire``, as are those it marks ``active = false``, and a retired
resident's devices). Importing the same file twice changes nothing.
Every import that changes something bumps the directory revision, which running monitors
watch to subscribe for new devices.

Devices with ``volunteer`` are volunteers' own phones (``volunteer_phones``), subscribed
to like residents' devices but only ever read for their position. A resident's
``family`` replaces her contacts when the file lists it, and leaves them alone otherwise.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

import devices
from monitor.core.clock import SystemClock
from monitor.core.effects import AfterCommit, Effects, commit_then_apply
from monitor.directory import model as file_model
from monitor.directory.retire import HandBack, refuse_while_in_use, retire, retiring, retiring_one
from monitor.oncall.family import ContactValues, replace_family
from monitor.store import models
from monitor.store.database import Database

DIRECTORY_REVISION_KEY = "directory_revision"
#: pg_advisory_xact_lock key: one import at a time (several monitors import the same file as they start)
IMPORT_LOCK = 8127304
Row = TypeVar("Row", bound=models.Base)


@dataclass
class ImportSummary:
    added: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    #: who and what this import retired, described by section (``Retiring.described``)
    retired: dict[str, list[str]] = field(default_factory=dict)
    #: the alerts handed back to escalation from volunteers it retired (``--reassign``)
    handed_back: list[int] = field(default_factory=list)

    @property
    def changed_anything(self) -> bool:
        return any(self.added.values()) or any(self.changed.values()) or bool(self.retired)

    def lines(self) -> list[str]:
        lines = [
            f"{section}: {self.added.get(section, 0)} added, {self.changed.get(section, 0)} changed, "
            f"{self.unchanged.get(section, 0)} unchanged"
            for section in ("organisations", "areas", "policies", "residents", "devices", "volunteers")
            # a service of one community never names organisations: no line about them
            if section != "organisations"
            or any(kind.get(section) for kind in (self.added, self.changed, self.unchanged))
        ]
        if self.changed.get("volunteer areas"):
            lines.append(f"volunteer areas: {self.changed['volunteer areas']} volunteers' areas changed")
        if self.changed.get("family"):
            lines.append(f"family contacts: {self.changed['family']} residents' contacts changed")
        phones = ("added", "changed", "unchanged")
        if any(getattr(self, kind).get("volunteer phones") for kind in phones):
            lines.append(
                "volunteer phones: "
                + ", ".join(f"{getattr(self, kind).get('volunteer phones', 0)} {kind}" for kind in phones)
            )
        return lines + self.retirement_lines()

    def retirement_lines(self) -> list[str]:
        """Who and what was retired, and the alerts handed back (nothing when nobody was)."""
        lines = [f"{section} retired: {', '.join(described)}" for section, described in self.retired.items()]
        if self.handed_back:
            lines.append(f"alerts handed back to escalation: {', '.join(map(str, self.handed_back))}")
        return lines


async def import_directory(
    database: Database,
    directory: file_model.Directory,
    *,
    prune: Collection[str] = (),
    hand_back: HandBack | None = None,
    after_commit: AfterCommit | None = None,
    tell_retired: bool = False,
    dry_run: bool = False,
) -> ImportSummary:
    """Upsert ``directory``; retire what it no longer lists of the ``prune`` sections. Refused (a
    UserError, nothing written) while a resident or device it retires has an alert not ended, a
    volunteer it retires holds one and there is no ``hand_back`` (whose effects ``after_commit``
    carries out), or an area or policy it retires is still in use once the import is done.
    ``tell_retired`` (``[sms] tell_retired``): the volunteers it retires are told by SMS, once.
    ``dry_run``: everything is worked out and the summary returned, and then rolled back."""

    async def write(session: AsyncSession, effects: Effects) -> ImportSummary:
        summary = ImportSummary()  # afresh should the database run the transaction again
        if not database.is_sqlite:
            # Each import reads what exists, then inserts the rest: two at once would insert the same ids.
            await session.execute(text(f"SELECT pg_advisory_xact_lock({IMPORT_LOCK})"))
        leaving = await retiring(session, directory, prune=prune)
        summary.handed_back = await retire(
            session, effects, leaving, hand_back=hand_back, tell_retired=tell_retired, now=SystemClock().now()
        )
        summary.retired = leaving.described()
        await _upsert(
            session, summary, "organisations", models.Organisation, directory.organisations, _organisation_values
        )
        await _upsert(session, summary, "areas", models.Area, directory.areas, _area_values)
        await _upsert(session, summary, "policies", models.EscalationPolicy, directory.policies, _policy_values)
        await _restart_changed_checkins(session, directory.residents)
        await _upsert(session, summary, "residents", models.Resident, directory.residents, _resident_values)
        await _sync_family(session, summary, directory.residents)
        residents_devices = [device for device in directory.devices if device.volunteer is None]

        def device_values(device: file_model.Device) -> dict[str, Any]:
            return _device_values(device, resident_retired=device.resident in leaving.retired_residents)

        await _upsert(session, summary, "devices", models.Device, residents_devices, device_values)
        added_volunteers = await _upsert(
            session, summary, "volunteers", models.Volunteer, directory.volunteers, _volunteer_values
        )
        await _sync_volunteer_areas(session, summary, directory.volunteers, added_volunteers)
        volunteer_phones = [device for device in directory.devices if device.volunteer is not None]
        await _upsert(
            session, summary, "volunteer phones", models.VolunteerPhone, volunteer_phones, _volunteer_phone_values
        )
        await refuse_while_in_use(session, leaving)  # the file may have moved them out first
        if summary.changed_anything:
            await session.merge(models.ServiceMeta(key=DIRECTORY_REVISION_KEY, value=uuid.uuid4().hex))
        if dry_run:
            raise _RolledBack(summary)
        return summary

    try:
        return await commit_then_apply(database, after_commit or _nothing_follows, write)
    except _RolledBack as dry:
        return dry.summary


class _RolledBack(Exception):
    """Ends a dry run's transaction (rolled back, its effects dropped), carrying what it would have done."""

    def __init__(self, summary: ImportSummary) -> None:
        super().__init__("dry run")
        self.summary = summary


async def retire_entry(
    database: Database,
    section: str,
    entry_id: str,
    *,
    hand_back: HandBack | None = None,
    after_commit: AfterCommit | None = None,
    tell_retired: bool = False,
) -> ImportSummary | None:
    """Retire one volunteer, resident (with her devices), device, area or policy, by the import's
    rules (the console and the API); None when there is no such entry."""

    async def write(session: AsyncSession, effects: Effects) -> ImportSummary | None:
        leaving = await retiring_one(session, section, entry_id)
        if leaving is None:
            return None
        summary = ImportSummary(retired=leaving.described())
        summary.handed_back = await retire(
            session, effects, leaving, hand_back=hand_back, tell_retired=tell_retired, now=SystemClock().now()
        )
        await refuse_while_in_use(session, leaving)
        if summary.changed_anything:
            await session.merge(models.ServiceMeta(key=DIRECTORY_REVISION_KEY, value=uuid.uuid4().hex))
        return summary

    return await commit_then_apply(database, after_commit or _nothing_follows, write)


async def _nothing_follows(effects: Effects) -> None:
    """Outside a monitor (``callwatch import``) nothing is carried out here: what an import queues
    is pending, and the running monitors' outboxes and escalation timers pick it up."""


async def _upsert(
    session: AsyncSession,
    summary: ImportSummary,
    section: str,
    model: type[Row],
    entries: Iterable[Any],
    values_of: Callable[[Any], dict[str, Any]],
) -> set[str]:
    """Add or update ``entries``; the ids of the rows added."""
    added: set[str] = set()
    existing = {row.id: row for row in (await session.scalars(select(model))).all()}  # type: ignore[attr-defined]
    for entry in entries:
        values = values_of(entry)
        row = existing.get(entry.id)
        if row is None:
            session.add(model(**values))
            added.add(entry.id)
            summary.added[section] = summary.added.get(section, 0) + 1
        elif any(getattr(row, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            summary.changed[section] = summary.changed.get(section, 0) + 1
        else:
            summary.unchanged[section] = summary.unchanged.get(section, 0) + 1
    await session.flush()
    return added


async def _sync_volunteer_areas(
    session: AsyncSession,
    summary: ImportSummary,
    volunteers: Iterable[file_model.Volunteer],
    just_added: set[str],
) -> None:
    for volunteer in volunteers:
        current = set(
            (
                await session.scalars(
                    select(models.VolunteerArea.area_id).where(models.VolunteerArea.volunteer_id == volunteer.id)
                )
            ).all()
        )
        wanted = set(volunteer.areas)
        if current == wanted:
            continue
        await session.execute(
            delete(models.VolunteerArea).where(
                models.VolunteerArea.volunteer_id == volunteer.id,
                models.VolunteerArea.area_id.in_(current - wanted),
            )
        )
        session.add_all(models.VolunteerArea(volunteer_id=volunteer.id, area_id=area) for area in wanted - current)
        if volunteer.id not in just_added:
            summary.changed["volunteer areas"] = summary.changed.get("volunteer areas", 0) + 1


async def _sync_family(session: AsyncSession, summary: ImportSummary, residents: Iterable[file_model.Resident]) -> None:
    for resident in residents:
        if resident.family is None:
            continue  # not in the file: contacts entered elsewhere (the console) stay
        contacts = [
            ContactValues(contact.name, contact.phone, contact.language or resident.language, contact.relationship)
            for contact in resident.family
        ]
        if await replace_family(session, resident.id, contacts):
            summary.changed["family"] = summary.changed.get("family", 0) + 1


async def _restart_changed_checkins(session: AsyncSession, residents: Iterable[file_model.Resident]) -> None:
    """Forget the next check-in deadline of residents whose deadline or time zone changes, so
    that supervision works it out again from the new schedule."""
    wanted = {resident.id: (resident.checkin_by, resident.timezone) for resident in residents}
    rows = await session.scalars(select(models.Resident).where(models.Resident.id.in_(wanted)))
    for row in rows:
        if (row.checkin_by, row.timezone) != wanted[row.id]:
            row.checkin_due_at = None


def _organisation_values(organisation: file_model.Organisation) -> dict[str, Any]:
    return {"id": organisation.id, "name": organisation.name}


def _area_values(area: file_model.Area) -> dict[str, Any]:
    return {
        "id": area.id,
        "name": area.name,
        "policy_id": area.policy,
        "active": area.active,
        "organisation_id": area.organisation,
    }


def _policy_values(policy: file_model.Policy) -> dict[str, Any]:
    return {
        "id": policy.id,
        "tiers": [tier.model_dump() for tier in policy.tiers],
        "repeat": policy.repeat,
        "kinds": list(policy.kinds),
        "inform": list(policy.inform),
        "arrive_within_s": policy.arrive_within_s,
        "resolve_within_s": policy.resolve_within_s,
        "arrival_radius_m": policy.arrival_radius_m,
        "active": policy.active,
        "organisation_id": policy.organisation,
    }


def _resident_values(resident: file_model.Resident) -> dict[str, Any]:
    return {
        "id": resident.id,
        "name": resident.name,
        "address": resident.address,
        "area_id": resident.area,
        "phone": resident.phone,
        "language": resident.language,
        "notes": resident.notes,
        "timezone": resident.timezone,
        "checkin_by": resident.checkin_by,
        **_safe_zone_values(resident.safe_zone),
        "active": resident.active,
        "home_lat": resident.home.lat if resident.home else None,
        "home_lon": resident.home.lon if resident.home else None,
        "sms_updates": resident.sms_updates,
    }


def _safe_zone_values(zone: file_model.SafeZone | None) -> dict[str, Any]:
    return {
        "safe_lat": zone.lat if zone else None,
        "safe_lon": zone.lon if zone else None,
        "safe_radius_m": zone.radius_m if zone else None,
        "safe_region": zone.region if zone else None,
    }


def _device_values(device: file_model.Device, *, resident_retired: bool) -> dict[str, Any]:
    profile = device.profile()
    return {
        "id": device.id,
        "resident_id": device.resident,
        "kind": device.kind,
        "protocol": device.protocol,
        "topic": profile.topic,
        "serial": device.serial,
        "ref": devices.registry()[device.protocol].device_ref(profile),
        "heartbeat_s": device.heartbeat_interval_s,
        "action_map": dict(device.actions),
        "active": device.active and not resident_retired,
    }


def _volunteer_values(volunteer: file_model.Volunteer) -> dict[str, Any]:
    return {
        "id": volunteer.id,
        "name": volunteer.name,
        "phone": volunteer.phone,
        "language": volunteer.language,
        "role": volunteer.role,
        "active": volunteer.active,
        "timezone": volunteer.timezone,
        "schedule": volunteer.schedule_json(),
        "home_lat": volunteer.home.lat if volunteer.home else None,
        "home_lon": volunteer.home.lon if volunteer.home else None,
        "share_location": volunteer.share_location,
        "voice": volunteer.voice,
        "voice_hours": volunteer.voice_hours,
        "organisation_id": volunteer.organisation,
    }


def _volunteer_phone_values(device: file_model.Device) -> dict[str, Any]:
    profile = device.profile()
    return {
        "id": device.id,
        "volunteer_id": device.volunteer,
        "protocol": device.protocol,
        "topic": profile.topic,
        "serial": device.serial,
        "ref": devices.registry()[device.protocol].device_ref(profile),
    }

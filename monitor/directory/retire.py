"""Retiring volunteers, residents, devices, areas and policies through the directory file:
retire, don't break.

An entry that says ``active = false`` is retired; with ``prune`` (``callwatch import --prune``),
so is every active entry of the pruned sections the file no longer lists. A retired resident's
devices retire with her. Retired rows are kept (alerts and logs name them):

- a volunteer is never asked again: every audience, schedule and nearest-first list reads
  active volunteers only (``monitor.oncall.people``);
- a resident's check-ins are no longer judged (``monitor.watch.supervision``);
- a device is no longer supervised (``monitor.watch.device_health``), has no broker account
  (``monitor.broker.files``) and its messages are refused as from an unknown device
  (``monitor.ingest.processor``);
- an area or policy can no longer be chosen, and a policy no longer catches its ``kinds``
  (``monitor.escalation.policy``): those alerts follow their area's policy.

Listing them again with ``active = true`` (the default) brings them back.

Nobody is retired behind an alert's back. A resident or device with an alert not yet ended
(its own, or an area outage listing the device) is not retired: the import is refused, naming
the alert, as there is nobody to hand it to. A volunteer holding an alert (took it, is on the
way or there) is refused too, unless the import hands such alerts back (``hand_back``, the
actions' door: ``callwatch import --reassign``), as if they had replied NO.

Nor is an area or policy retired from under what uses it: while an active resident or volunteer
is in the area, an active area follows the policy (``"default"`` for an area naming none) or an
alert not yet ended is in the area or follows the policy, once the import's own changes are made,
the import is refused naming them, until they are moved elsewhere or retired too.

With ``[sms] tell_retired``, a retired volunteer is told so by SMS, once (``tell_the_retired``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.alerts.lifecycle import TAKEN, AlertState
from monitor.core.effects import Effects
from monitor.core.errors import UserError
from monitor.directory import model as file_model
from monitor.notify import texts
from monitor.notify.requests import NotificationRequest, Purpose, queue_many
from monitor.store import models
from monitor.store.database import Database

#: Hands an alert its holder can no longer keep back to escalation, in the import's transaction.
HandBack = Callable[[AsyncSession, Effects, models.Alert, models.Volunteer], Awaitable[None]]
#: Alerts not ended yet: someone is being asked, or has it in hand.
NOT_ENDED = (AlertState.OPEN.value, *(state.value for state in TAKEN))
NOTHING_CHANGED = "then import again (nothing was changed)."
Retirable = TypeVar("Retirable", models.Volunteer, models.Resident, models.Area, models.EscalationPolicy)
#: The most ids a refusal names of each kind before "and N more"
NAMED_AT_MOST = 5


@dataclass(frozen=True)
class Retiring:
    """Who and what an import retires, each in id order."""

    volunteers: Sequence[models.Volunteer] = ()
    residents: Sequence[models.Resident] = ()
    devices: Sequence[models.Device] = ()
    areas: Sequence[models.Area] = ()
    policies: Sequence[models.EscalationPolicy] = ()
    #: the residents retired once the import is done (those it retires and those it leaves retired)
    retired_residents: frozenset[str] = frozenset()

    def described(self) -> dict[str, list[str]]:
        """``{"volunteers": ["v-3 (Sun Li, volunteer)"], "devices": ["btn-1 (button of r-1)"]}``,
        the sections with somebody or something in them, for the import's summary and prompt."""
        sections = {
            "volunteers": [f"{volunteer.id} ({volunteer.name}, {volunteer.role})" for volunteer in self.volunteers],
            "residents": [f"{resident.id} ({resident.name})" for resident in self.residents],
            "devices": [f"{device.id} ({device.kind} of {device.resident_id})" for device in self.devices],
            "areas": [f"{area.id} ({area.name})" for area in self.areas],
            "policies": [policy.id for policy in self.policies],
        }
        return {section: lines for section, lines in sections.items() if lines}

    def apply(self) -> None:
        for volunteer in self.volunteers:
            volunteer.active = False
        for resident in self.residents:
            resident.active = False
        for device in self.devices:
            device.active = False
            device.review_at = None  # supervision has nothing more to look at
        for area in self.areas:
            area.active = False
        for policy in self.policies:
            policy.active = False


async def retiring(session: AsyncSession, directory: file_model.Directory, *, prune: Collection[str] = ()) -> Retiring:
    """What importing ``directory`` retires: entries it marks ``active = false``, the active ones
    of the ``prune`` sections it does not list, and the devices of every resident retired after it."""
    listed_volunteers = {entry.id: entry.active for entry in directory.volunteers}
    volunteers = await _leaving(session, models.Volunteer, listed_volunteers, "volunteers" in prune)
    listed_residents = {entry.id: entry.active for entry in directory.residents}
    residents = await _leaving(session, models.Resident, listed_residents, "residents" in prune)
    already_retired = (await session.scalars(select(models.Resident.id).where(models.Resident.active.is_(False)))).all()
    retired_residents = frozenset(
        {resident.id for resident in residents}
        | {resident_id for resident_id in already_retired if not listed_residents.get(resident_id, False)}
    )
    listed_devices = {entry.id: entry.active for entry in directory.devices if entry.volunteer is None}
    active_devices = await session.scalars(
        select(models.Device).where(models.Device.active.is_(True)).order_by(models.Device.id)
    )
    devices = [
        device
        for device in active_devices
        if device.resident_id in retired_residents or listed_devices.get(device.id, "devices" not in prune) is False
    ]
    listed_areas = {entry.id: entry.active for entry in directory.areas}
    areas = await _leaving(session, models.Area, listed_areas, "areas" in prune)
    listed_policies = {entry.id: entry.active for entry in directory.policies}
    policies = await _leaving(session, models.EscalationPolicy, listed_policies, "policies" in prune)
    return Retiring(volunteers, residents, devices, areas, policies, retired_residents)


async def _leaving(
    session: AsyncSession, model: type[Retirable], listed: dict[str, bool], prune: bool
) -> list[Retirable]:
    active = await session.scalars(select(model).where(model.active.is_(True)).order_by(model.id))
    return [row for row in active if listed.get(row.id, not prune) is False]


async def retiring_one(session: AsyncSession, section: str, entry_id: str) -> Retiring | None:
    """What retiring one entry of ``section`` (any but a volunteer's phone) retires, as the
    console and the API do: a resident's devices with her; nothing when it is retired already.
    None when there is no such entry."""
    if section == "volunteers":
        volunteer = await session.get(models.Volunteer, entry_id)
        return None if volunteer is None else Retiring(volunteers=[volunteer] if volunteer.active else [])
    if section == "residents":
        resident = await session.get(models.Resident, entry_id)
        if resident is None:
            return None
        if not resident.active:
            return Retiring()
        devices = await session.scalars(
            select(models.Device)
            .where(models.Device.resident_id == entry_id, models.Device.active.is_(True))
            .order_by(models.Device.id)
        )
        return Retiring(residents=[resident], devices=list(devices), retired_residents=frozenset({entry_id}))
    if section == "devices":
        device = await session.get(models.Device, entry_id)
        return None if device is None else Retiring(devices=[device] if device.active else [])
    if section == "areas":
        area = await session.get(models.Area, entry_id)
        return None if area is None else Retiring(areas=[area] if area.active else [])
    if section == "policies":
        policy = await session.get(models.EscalationPolicy, entry_id)
        return None if policy is None else Retiring(policies=[policy] if policy.active else [])
    return None


async def retire(
    session: AsyncSession,
    effects: Effects,
    leaving: Retiring,
    *,
    hand_back: HandBack | None,
    tell_retired: bool,
    now: datetime,
) -> list[int]:
    """Retire ``leaving`` (a UserError and nothing changed while an alert stands in the way), hand
    back what leaving volunteers hold, tell them if so configured; the alerts handed back."""
    await refuse_while_alerts_are_open(session, leaving)
    leaving.apply()  # first: the hand-back's next asks must not go to whoever is leaving
    handed_back = await hand_back_or_refuse(session, effects, leaving.volunteers, hand_back)
    if tell_retired:
        await tell_the_retired(session, effects, leaving.volunteers, now)
    return handed_back


async def refuse_while_in_use(session: AsyncSession, leaving: Retiring) -> None:
    """Raise a UserError naming what still uses an area or policy being retired, as things stand
    (an import checks once its own changes are made: it may move people out of the area)."""
    for area in leaving.areas:
        residents = await session.execute(
            select(models.Resident.id, models.Resident.name)
            .where(models.Resident.area_id == area.id, models.Resident.active.is_(True))
            .order_by(models.Resident.id)
        )
        volunteers = await session.execute(
            select(models.Volunteer.id, models.Volunteer.name)
            .join(models.VolunteerArea, models.VolunteerArea.volunteer_id == models.Volunteer.id)
            .where(models.VolunteerArea.area_id == area.id, models.Volunteer.active.is_(True))
            .order_by(models.Volunteer.id)
        )
        moved = [
            _named("resident", "residents", [f"{id_} ({name})" for id_, name in residents.all()]),
            _named("volunteer", "volunteers", [f"{id_} ({name})" for id_, name in volunteers.all()]),
        ]
        alerts = await _alerts_named(session, models.Alert.area_id == area.id)
        _refuse_if_used(f'area "{area.id}" ({area.name})', moved, "move them to another area or retire them", alerts)
    for policy in leaving.policies:
        areas = await session.execute(
            select(models.Area.id, models.Area.name)
            .where(
                func.coalesce(models.Area.policy_id, file_model.DEFAULT_POLICY_ID) == policy.id,
                models.Area.active.is_(True),
            )
            .order_by(models.Area.id)
        )
        following = [_named("area", "areas", [f"{id_} ({name})" for id_, name in areas.all()])]
        alerts = await _alerts_named(session, models.Alert.policy_id == policy.id)
        _refuse_if_used(f'policy "{policy.id}"', following, "give those areas another policy or retire them", alerts)


def _refuse_if_used(what: str, users: list[str], fix: str, alerts: str) -> None:
    """A UserError naming ``users`` (with ``fix``) and ``alerts`` not yet ended, if there are any."""
    named = [user for user in users if user]
    fixes = [fix] if named else []
    if alerts:
        named.append(alerts)
        fixes.append("end those alerts (resolve or cancel them at the console)")
    if named:
        raise UserError(f"{what} is still used by {'; '.join(named)}; {' and '.join(fixes)}, {NOTHING_CHANGED}")


def _named(one: str, many: str, described: list[str]) -> str:
    """``residents r-1 (Wang), r-2 (Li) and 4 more`` (empty when there are none)."""
    if not described:
        return ""
    more = len(described) - NAMED_AT_MOST
    listed = ", ".join(described[:NAMED_AT_MOST]) + (f" and {more} more" if more > 0 else "")
    return f"{one if len(described) == 1 else many} {listed}"


async def _alerts_named(session: AsyncSession, in_use: ColumnElement[bool]) -> str:
    """The alerts not yet ended matching ``in_use``, named (empty when there are none)."""
    alerts = await session.execute(
        select(models.Alert.id, models.Alert.kind, models.Alert.state)
        .where(in_use, models.Alert.state.in_(NOT_ENDED))
        .order_by(models.Alert.id)
    )
    return _named("alert", "alerts", [f"{id_} ({kind}, {state})" for id_, kind, state in alerts.all()])


async def refuse_while_alerts_are_open(session: AsyncSession, leaving: Retiring) -> None:
    """Raise a UserError naming the first alert not yet ended of a leaving resident or device."""
    residents = {resident.id: resident.name for resident in leaving.residents}
    devices = [device.id for device in leaving.devices]
    if not residents and not devices:
        return
    outage_devices = select(models.AlertDevice.alert_id).where(models.AlertDevice.device_id.in_(devices))
    alert = await session.scalar(
        select(models.Alert)
        .where(
            models.Alert.state.in_(NOT_ENDED),
            or_(
                models.Alert.resident_id.in_(residents),
                models.Alert.device_id.in_(devices),
                models.Alert.id.in_(outage_devices),
            ),
        )
        .order_by(models.Alert.id)
        .limit(1)
    )
    if alert is None:
        return
    if alert.resident_id in residents:
        whose = f'resident "{alert.resident_id}" ({residents[alert.resident_id]})'
    elif alert.device_id in devices:
        whose = f'device "{alert.device_id}"'
    else:
        listed = await session.scalars(
            select(models.AlertDevice.device_id)
            .where(models.AlertDevice.alert_id == alert.id, models.AlertDevice.device_id.in_(devices))
            .order_by(models.AlertDevice.device_id)
        )
        whose = f'device "{listed.first()}"'
    raise UserError(
        f"{whose} has alert {alert.id} ({alert.kind}, {alert.state}), and there is nobody to hand it to; "
        f"end that alert (resolve or cancel it at the console), {NOTHING_CHANGED}"
    )


async def hand_back_or_refuse(
    session: AsyncSession, effects: Effects, leaving: Sequence[models.Volunteer], hand_back: HandBack | None
) -> list[int]:
    """The alerts leaving volunteers hold, handed back with ``hand_back``; without it, a UserError
    naming the first of them. The ids of the alerts handed back."""
    if not leaving:
        return []
    by_id = {volunteer.id: volunteer for volunteer in leaving}
    held = (
        await session.scalars(
            select(models.Alert)
            .where(models.Alert.acknowledged_by.in_(by_id), models.Alert.state.in_([state.value for state in TAKEN]))
            .order_by(models.Alert.id)
            .with_for_update()
        )
    ).all()
    if held and hand_back is None:
        first = held[0]
        volunteer = by_id[str(first.acknowledged_by)]
        raise UserError(
            f'volunteer "{volunteer.id}" ({volunteer.name}) still holds alert {first.id} ({first.state}); '
            f"end that alert or have them hand it back, or import with --reassign to hand it back to escalation, "
            f"{NOTHING_CHANGED}"
        )
    for alert in held:
        assert hand_back is not None
        await hand_back(session, effects, alert, by_id[str(alert.acknowledged_by)])
    return [alert.id for alert in held]


async def tell_the_retired(
    session: AsyncSession, effects: Effects, volunteers: Sequence[models.Volunteer], now: datetime
) -> None:
    """One SMS to each volunteer retired: they will not be asked again. Once per volunteer, ever
    (the notification's unique key), however often they come back and leave again."""
    requests = [
        NotificationRequest(
            volunteer.phone,
            texts.retired(volunteer.language),
            Purpose.RETIRED,
            volunteer_id=volunteer.id,
            key=f"retired:{volunteer.id}",
        )
        for volunteer in volunteers
    ]
    await queue_many(session, effects, requests, now)


async def retirement_of_one(session: AsyncSession, section: str, entry_id: str) -> dict[str, list[str]] | None:
    """What retiring one entry would retire, described, without changing anything (None: no such entry)."""
    leaving = await retiring_one(session, section, entry_id)
    return None if leaving is None else leaving.described()


async def retirement_preview(
    database: Database, directory: file_model.Directory, *, prune: Collection[str] = ()
) -> dict[str, list[str]]:
    """Who and what importing ``directory`` would retire, described, without changing anything."""
    async with database.read() as session:
        return (await retiring(session, directory, prune=prune)).described()

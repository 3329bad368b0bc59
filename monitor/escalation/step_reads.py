"""What escalation steps read about people, read once per transaction and then kept in memory.

A batch of due steps (``monitor.escalation.timer``) asks about the same tiers, volunteers
and duty staff again and again; none of that can change inside the batch's transaction
except through the batch itself. ``StepReads`` reads each thing the first time a step needs
it and answers from memory after that: policies, tier members, volunteers' standings
(availability, schedules, STOP opt-outs), duty staff on call, volunteers' recent load, what
each alert was already asked, and the residents and areas its messages name. The
notifications the steps queue are noted here as they are queued, so the load and "asked
this round" figures later steps see count them as the database would.

It lives for one transaction only: replies committed by other transactions (STOP, OFF,
PAUSE) change standings, and the next transaction must see them.

Reading the batch's devices and holders here, and the holders' opt-outs once, took the
arrival deadlines of ``python -m bench.follow_through`` (200 alerts) from 11.4 to 8.6 SQL
statements per alert, the reads among them from 4.2 to 0.2 (counted in the engine's statement
log of the deadline transactions, before and after in one sitting; the rest are the writes:
three notifications, a responder link and four log entries per alert).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar, cast
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

from monitor.directory.model import Policy
from monitor.escalation.policy import policy_of
from monitor.notify.facts import facts_of
from monitor.notify.requests import ASKING, Purpose
from monitor.notify.texts import AlertFacts
from monitor.oncall.fairness import WINDOW, Load, recent_load
from monitor.oncall.family import family_of
from monitor.oncall.people import duty_staff, members, names_volunteer
from monitor.oncall.standing import Duty, Standing, standing_of
from monitor.store.models import (
    Alert,
    Area,
    Base,
    Device,
    EscalationPolicy,
    FamilyContact,
    Notification,
    Resident,
    SmsOptOut,
    Volunteer,
    VolunteerAvailability,
)

RowT = TypeVar("RowT", bound=Base)

#: What volunteers said (OFF, PAUSE) and whether their phone opted out, in one statement.
STANDINGS = (
    select(Volunteer.id, VolunteerAvailability, SmsOptOut.phone)
    .outerjoin(VolunteerAvailability, VolunteerAvailability.volunteer_id == Volunteer.id)
    .outerjoin(SmsOptOut, SmsOptOut.phone == Volunteer.phone)
    .where(Volunteer.id.in_(bindparam("volunteer_ids", expanding=True)))
)


@dataclass(frozen=True, slots=True)
class QueuedNotification:
    """A notification row of an alert, as far as who was asked matters."""

    phone: str
    volunteer_id: str | None
    purpose: str
    round: int | None
    created_at: datetime


class StepReads:
    """One transaction's memory of who can be asked (see the module docstring)."""

    def __init__(self, session: AsyncSession, now: datetime, default_zone: ZoneInfo) -> None:
        self.session = session
        self.now = now
        self.default_zone = default_zone
        self._policies: dict[str, Policy | None] = {}
        self._members: dict[tuple[str, str | None], list[Volunteer]] = {}
        self._family: dict[str, list[FamilyContact]] = {}
        self._standings: dict[str, Standing] = {}
        self._opted_out: dict[str, bool] = {}
        #: per organisation (None: service-wide), its duty staff to tell and whether that fell back
        self._staff_on_call: dict[str | None, tuple[list[Volunteer], bool]] = {}
        self._loads: dict[str, Load] = {}
        #: per alert id, its notification rows so far (database and this transaction)
        self._queued: dict[int, list[QueuedNotification]] = {}
        self._residents: dict[str, Resident | None] = {}
        self._areas: dict[str, Area | None] = {}
        # Devices (for feedback) and holders (for follow-through) are only held here: the session's
        # identity map, where those steps look them up, keeps a row only while something else does.
        self._devices: dict[str, Device | None] = {}
        self._holders: dict[str, Volunteer | None] = {}

    async def prefetch(self, alerts: Sequence[Alert]) -> None:
        """Read what steps about ``alerts`` will need in five queries rather than a few per alert:
        their notification rows, residents, areas, devices and the volunteers holding them."""
        await self.prefetch_queued([alert.id for alert in alerts])
        resident_ids = {alert.resident_id for alert in alerts if alert.resident_id} - self._residents.keys()
        self._residents.update(await self._rows(Resident, resident_ids))
        area_ids = {alert.area_id for alert in alerts if alert.area_id} - self._areas.keys()
        self._areas.update(await self._rows(Area, area_ids))
        device_ids = {alert.device_id for alert in alerts if alert.device_id} - self._devices.keys()
        self._devices.update(await self._rows(Device, device_ids))
        holder_ids = {
            alert.acknowledged_by
            for alert in alerts
            if alert.acknowledged_by and names_volunteer(alert.acknowledged_by)
        }
        self._holders.update(await self._rows(Volunteer, holder_ids - self._holders.keys()))

    async def _rows(self, model: type[RowT], ids: set[str]) -> dict[str, RowT | None]:
        """The rows of ``model`` with ``ids`` (None where there is none); the ones this transaction
        already loaded (a press loads its resident and area) are taken from the session."""
        found: dict[str, RowT | None] = dict.fromkeys(ids)
        loaded = self.session.sync_session.identity_map
        for row_id in ids:
            found[row_id] = cast("RowT | None", loaded.get(identity_key(model, row_id)))
        missing = [row_id for row_id, row in found.items() if row is None]
        if missing:
            key = inspect(model).primary_key[0]
            for row in await self.session.scalars(select(model).where(key.in_(missing))):
                found[str(getattr(row, key.name))] = row
        return found

    async def facts(self, alert: Alert) -> tuple[AlertFacts, str]:
        """What the messages say about ``alert`` and its resident's language (``load_facts``)."""
        await self.prefetch([alert])
        resident = self._residents.get(alert.resident_id) if alert.resident_id else None
        area = self._areas.get(alert.area_id) if alert.area_id else None
        return facts_of(alert, resident, area)

    async def policy(self, policy_id: str) -> Policy | None:
        """The policy with this id, if there is one and it has tiers."""
        if policy_id not in self._policies:
            row = await self.session.get(EscalationPolicy, policy_id)
            self._policies[policy_id] = policy_of(row) if row is not None and row.tiers else None
        return self._policies[policy_id]

    async def members(self, target: str, area_id: str | None) -> list[Volunteer]:
        """The active volunteers a (non-family) target names, in id order."""
        key = (target, area_id)
        if key not in self._members:
            self._members[key] = await members(self.session, target, area_id)
        return self._members[key]

    async def family(self, resident_id: str) -> list[FamilyContact]:
        if resident_id not in self._family:
            self._family[resident_id] = await family_of(self.session, resident_id)
        return self._family[resident_id]

    async def opted_out(self, phones: Iterable[str]) -> set[str]:
        """Which of ``phones`` replied STOP (and not START since)."""
        wanted = set(phones)
        unknown = wanted - self._opted_out.keys()
        if unknown:
            stopped = set(
                (await self.session.scalars(select(SmsOptOut.phone).where(SmsOptOut.phone.in_(unknown)))).all()
            )
            self._opted_out.update((phone, phone in stopped) for phone in unknown)
        return {phone for phone in wanted if self._opted_out[phone]}

    async def standings(self, volunteers: Sequence[Volunteer]) -> dict[str, Standing]:
        """Each volunteer's standing now, by volunteer id (the rule in ``monitor.escalation.audience``)."""
        unknown = [volunteer for volunteer in volunteers if volunteer.id not in self._standings]
        if unknown:
            said: dict[str, VolunteerAvailability] = {}
            stopped: set[str] = set()
            for volunteer_id, availability, opted_out_phone in await self.session.execute(
                STANDINGS, {"volunteer_ids": [volunteer.id for volunteer in unknown]}
            ):
                if availability is not None:
                    said[volunteer_id] = availability
                if opted_out_phone is not None:
                    stopped.add(opted_out_phone)
            self._opted_out.update((volunteer.phone, volunteer.phone in stopped) for volunteer in unknown)
            for volunteer in unknown:
                self._standings[volunteer.id] = standing_of(
                    volunteer, said.get(volunteer.id), volunteer.phone in stopped, self.now, self.default_zone
                )
        return {volunteer.id: self._standings[volunteer.id] for volunteer in volunteers}

    async def staff_on_call(self, alert: Alert) -> tuple[list[Volunteer], bool]:
        """Duty staff to tell about ``alert`` (nobody took it, it was handed back...): those of its
        own organisation (``duty_staff``) on call now; when none is, every reachable one of them
        rather than nobody. The second value says whether it fell back."""
        area = (await self._rows(Area, {alert.area_id}))[alert.area_id] if alert.area_id else None
        organisation = area.organisation_id if area is not None else None
        if organisation not in self._staff_on_call:
            duty = duty_staff(await self.members("role:staff", None), organisation)
            standing = await self.standings(duty)
            on_call = [volunteer for volunteer in duty if standing[volunteer.id].askable]
            if on_call:
                self._staff_on_call[organisation] = on_call, False
            else:
                reachable = [volunteer for volunteer in duty if standing[volunteer.id].duty is not Duty.OPTED_OUT]
                self._staff_on_call[organisation] = reachable, True
        return self._staff_on_call[organisation]

    async def prefetch_queued(self, alert_ids: Collection[int]) -> None:
        """Read the notification rows of several alerts in one query (a batch of due steps)."""
        wanted = [alert_id for alert_id in alert_ids if alert_id not in self._queued]
        if not wanted:
            return
        for alert_id in wanted:
            self._queued[alert_id] = []
        rows = await self.session.execute(
            select(
                Notification.alert_id,
                Notification.phone,
                Notification.volunteer_id,
                Notification.purpose,
                Notification.round,
                Notification.created_at,
            )
            .where(Notification.alert_id.in_(wanted))
            .order_by(Notification.id)
        )
        for of_alert, phone, volunteer_id, purpose, round_number, created_at in rows:
            if of_alert is not None:  # (always: the query asked for these alerts' rows)
                queued = QueuedNotification(phone, volunteer_id, purpose, round_number, created_at)
                self._queued[of_alert].append(queued)

    def new_alert(self, alert_id: int) -> None:
        """``alert_id`` was inserted in this transaction: it has no notification rows yet."""
        self._queued.setdefault(alert_id, [])

    async def asked_phones(self, alert_id: int, round_number: int) -> set[str]:
        """The phones asked about the alert (to take it, or as duty staff) in round ``round_number``."""
        await self.prefetch_queued([alert_id])
        return {sms.phone for sms in self._queued[alert_id] if sms.purpose in ASKING and sms.round == round_number}

    async def recent_load(self, alert_id: int, volunteer_ids: Collection[str]) -> dict[str, Load]:
        """Each volunteer's load over the fairness window before now, as ``monitor.oncall.fairness``
        counts it, including the requests queued earlier in this transaction."""
        await self.prefetch_queued([alert_id])
        unknown = [volunteer_id for volunteer_id in volunteer_ids if volunteer_id not in self._loads]
        if unknown:
            loaded = await recent_load(self.session, unknown, self.now)
            self._loads.update((volunteer_id, loaded.get(volunteer_id, Load())) for volunteer_id in unknown)
        return {volunteer_id: self._loads[volunteer_id] for volunteer_id in volunteer_ids}

    def queued(
        self, alert_id: int, phone: str, volunteer_id: str | None, purpose: Purpose, round_number: int | None
    ) -> None:
        """A notification about the alert was just queued: count it where the database would count it."""
        so_far = self._queued.get(alert_id)
        if so_far is None:
            return  # never read here: a later read finds the row in the database
        since = self.now - WINDOW
        # "asked" counts alerts, not messages: only the volunteer's first request about this alert counts
        first_request = not any(
            sms.volunteer_id == volunteer_id and sms.purpose == Purpose.ALERT and sms.created_at >= since
            for sms in so_far
        )
        if purpose is Purpose.ALERT and volunteer_id is not None and volunteer_id in self._loads and first_request:
            load = self._loads[volunteer_id]
            self._loads[volunteer_id] = Load(load.asked + 1, load.took)
        so_far.append(QueuedNotification(phone, volunteer_id, purpose.value, round_number, self.now))

"""What people, devices and supervision do to alerts: raise, take, resolve, cancel, decline.

The single door: device events (``monitor.ingest.device_events``), SMS replies
(``monitor.actions.replies``), the console and the API (``monitor.actions.console``) and
supervision (``monitor.watch``) all act on alerts through ``AlertActions``, so an alert
behaves the same whoever acts on it. Each action runs inside the caller's transaction,
changes state only through ``monitor.alerts.lifecycle.transition``, writes the audit log,
queues the notifications it implies and the device feedback, and leaves the rest to
``Effects`` (carried out after the commit).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.actions.feedback import first_name, queue_feedback
from monitor.alerts.lifecycle import AlertKind, AlertState, Outcome, transition
from monitor.alerts.log import log_entry
from monitor.core.effects import Effects
from monitor.core.metrics import Metrics
from monitor.directory.model import DEFAULT_POLICY_ID
from monitor.escalation.engine import Escalation
from monitor.escalation.policy import policy_id_for
from monitor.notify import texts
from monitor.notify.facts import load_facts
from monitor.notify.requests import ASKING, NotificationStatus, Purpose, queue_sms
from monitor.oncall.inform import inform_ended
from monitor.oncall.people import holder_of
from monitor.store.models import (
    Alert,
    AlertEvent,
    Area,
    Device,
    EscalationPolicy,
    FamilyContact,
    Notification,
    Resident,
    Volunteer,
)

#: latitude, longitude, accuracy in metres, when the fix was taken
Fix = tuple[float, float, float | None, datetime | None]


@dataclass(frozen=True, slots=True)
class NewAlert:
    """An alert to raise: what, about whom and where, and who raised it."""

    kind: AlertKind
    detail: str
    area_id: str | None = None
    resident_id: str | None = None
    device_id: str | None = None
    position: Fix | None = None
    #: who raised it, for the audit log: "device:<id>" or "system"
    actor: str = "system"
    #: the press that raised it (its device's event id), for the device's feedback
    event_id: str | None = None
    device_message_id: int | None = None


@dataclass(frozen=True, slots=True)
class Taker:
    """Who takes or closes an alert: a volunteer, one of the resident's family, or a console
    user acting for a volunteer or for themselves."""

    actor: str  # for the audit log: "volunteer:v-01", "family:12", "user:alice"
    by: str  # kept on the alert: the volunteer id, "family:12", or "user:alice"
    name: str  # shown to people: "Li Ming"
    volunteer: Volunteer | None = None
    family: FamilyContact | None = None

    @classmethod
    def volunteer_taker(cls, volunteer: Volunteer) -> Taker:
        return cls(actor=f"volunteer:{volunteer.id}", by=volunteer.id, name=volunteer.name, volunteer=volunteer)

    @classmethod
    def family_taker(cls, contact: FamilyContact) -> Taker:
        return cls(actor=f"family:{contact.id}", by=f"family:{contact.id}", name=contact.name, family=contact)

    @property
    def phone(self) -> str | None:
        """Where the confirmation goes: the volunteer's or family member's phone (console users have none)."""
        if self.volunteer is not None:
            return self.volunteer.phone
        return self.family.phone if self.family is not None else None


#: One query brings a resident, her area and its policy into the session, so a new alert's
#: escalation and its texts need no further reads (built once: it runs on every press).
RESIDENT_AREA_POLICY = (
    select(Resident, Area, EscalationPolicy)
    .join(Area, Area.id == Resident.area_id)
    .outerjoin(EscalationPolicy, EscalationPolicy.id == func.coalesce(Area.policy_id, DEFAULT_POLICY_ID))
    .where(Resident.id == bindparam("resident_id"))
)


class AlertActions:
    def __init__(self, escalation: Escalation, metrics: Metrics) -> None:
        self.escalation = escalation
        self.metrics = metrics

    async def raise_alert(
        self, session: AsyncSession, effects: Effects, new: NewAlert, *, now: datetime, answer_device: bool = False
    ) -> Alert:
        """Open a new alert and start its escalation at once (none for device health).

        ``answer_device``: tell the device that raised it (a press) that it was received; an
        alert supervision raised on its own asks nothing of any device.
        """
        area_id = new.area_id
        if new.resident_id is not None:
            found = (await session.execute(RESIDENT_AREA_POLICY, {"resident_id": new.resident_id})).one_or_none()
            area_id = found[1].id if found else area_id
        area = await session.get(Area, area_id) if area_id is not None else None
        alert = Alert(
            kind=new.kind.value,
            state=AlertState.OPEN.value,
            device_id=new.device_id,
            resident_id=new.resident_id,
            area_id=area_id,
            event_id=new.event_id,
            raised_at=now,
            policy_id=await policy_id_for(session, new.kind, area),
            tier=0,
            round=0,
            unanswered=False,
        )
        if new.position is not None:
            alert.lat, alert.lon, alert.accuracy_m, alert.position_at = new.position
        session.add(alert)
        raised = AlertEvent(
            at=now, kind="raised", actor=new.actor, detail=new.detail, device_message_id=new.device_message_id
        )
        await self.escalation.start(session, alert, now, effects, opening=raised)
        self.metrics.alerts_raised.labels(kind=new.kind.value).inc()
        effects.changed_alert_ids.add(alert.id)
        if answer_device:
            await queue_feedback(session, effects, alert, "received")
        return alert

    async def acknowledge(
        self,
        session: AsyncSession,
        effects: Effects,
        alert: Alert,
        *,
        taker: Taker,
        now: datetime,
        via: str,
        confirmation_key: str,
    ) -> None:
        """``taker`` takes the open ``alert``: escalation stops, the others are told who took it."""
        session.add(
            transition(
                alert, AlertState.ACKNOWLEDGED, at=now, actor=taker.actor, by=taker.by, detail=f"{taker.name} {via}"
            )
        )
        effects.changed_alert_ids.add(alert.id)
        await session.execute(
            update(Notification)
            .where(
                Notification.alert_id == alert.id,
                Notification.status == NotificationStatus.PENDING,
                Notification.purpose.in_(ASKING),
            )
            .values(status=NotificationStatus.CANCELLED.value, status_at=now, error_message="alert taken")
        )
        facts, resident_language = await load_facts(session, alert)
        for phone, volunteer_id in await self._asked(session, alert, exclude_phone=taker.phone):
            await queue_sms(
                session,
                effects,
                phone=phone,
                message=texts.taken(facts, taker.name, resident_language),
                purpose=Purpose.TAKEN,
                now=now,
                alert_id=alert.id,
                volunteer_id=volunteer_id,
            )
        if taker.phone is not None:
            await queue_sms(
                session,
                effects,
                phone=taker.phone,
                message=texts.ack_confirmation(
                    facts, taker.family.language if taker.family is not None else resident_language
                ),
                purpose=Purpose.CONFIRMATION,
                now=now,
                alert_id=alert.id,
                volunteer_id=taker.volunteer.id if taker.volunteer is not None else None,
                key=confirmation_key,
            )
        await queue_feedback(session, effects, alert, "acknowledged", by=first_name(taker.name))

    async def resolve(
        self,
        session: AsyncSession,
        effects: Effects,
        alert: Alert,
        *,
        actor: str,
        by: str,
        now: datetime,
        outcome: Outcome,
        detail: str = "",
    ) -> None:
        session.add(transition(alert, AlertState.RESOLVED, at=now, actor=actor, by=by, detail=detail, outcome=outcome))
        effects.changed_alert_ids.add(alert.id)
        await queue_feedback(session, effects, alert, "resolved")
        await inform_ended(session, effects, alert, outcome.value, now)

    async def cancel_by_resident(
        self, session: AsyncSession, effects: Effects, alert: Alert, *, device: Device, now: datetime
    ) -> None:
        """The resident pressed cancel before anyone took the alert: stop and tell those asked."""
        session.add(transition(alert, AlertState.CANCELLED, at=now, actor=f"device:{device.id}"))
        effects.changed_alert_ids.add(alert.id)
        await session.execute(
            update(Notification)
            .where(Notification.alert_id == alert.id, Notification.status == NotificationStatus.PENDING)
            .values(status=NotificationStatus.CANCELLED.value, status_at=now, error_message="alert cancelled")
        )
        facts, resident_language = await load_facts(session, alert)
        for phone, volunteer_id in await self._asked(session, alert):
            await queue_sms(
                session,
                effects,
                phone=phone,
                message=texts.cancelled(facts, resident_language),
                purpose=Purpose.CANCELLED,
                now=now,
                alert_id=alert.id,
                volunteer_id=volunteer_id,
            )
        await queue_feedback(session, effects, alert, "cancelled")
        await inform_ended(session, effects, alert, AlertState.CANCELLED.value, now)

    async def cancel_after_acknowledged(
        self, session: AsyncSession, effects: Effects, alert: Alert, *, device: Device, now: datetime
    ) -> None:
        """Cancel pressed after someone took the alert: record it and tell the taker, keep the alert."""
        log_entry(
            session,
            alert.id,
            at=now,
            kind="cancel_pressed",
            detail="cancel pressed after the alert was taken; the alert stays open until resolved",
            actor=f"device:{device.id}",
        )
        effects.changed_alert_ids.add(alert.id)
        taker = await holder_of(session, alert.acknowledged_by)
        if taker is None:
            return
        facts, resident_language = await load_facts(session, alert)
        await queue_sms(
            session,
            effects,
            phone=taker.phone,
            message=texts.cancel_after_ack(facts, taker.language if taker.family else resident_language),
            purpose=Purpose.CANCELLED,
            now=now,
            alert_id=alert.id,
            volunteer_id=taker.volunteer_id,
        )

    async def decline(
        self, session: AsyncSession, effects: Effects, alert: Alert, *, taker: Taker, now: datetime
    ) -> None:
        """``taker`` (asked about it) cannot take it: if they were asked at the alert's current tier and
        round, ask the next nearest, or the next tier, now; a late NO to an earlier tier leaves the
        people asked now their time."""
        log_entry(session, alert.id, at=now, kind="declined", detail=taker.name, actor=taker.actor)
        effects.changed_alert_ids.add(alert.id)
        # A call still waiting for them (a tier's call_after_s) would only ask again.
        await session.execute(
            update(Notification)
            .where(
                Notification.alert_id == alert.id,
                Notification.phone == taker.phone,
                Notification.status == NotificationStatus.PENDING,
                Notification.purpose.in_(ASKING),
            )
            .values(status=NotificationStatus.CANCELLED.value, status_at=now, error_message="declined")
        )
        asked_now = await session.scalar(
            select(Notification.id)
            .where(
                Notification.alert_id == alert.id,
                Notification.purpose == Purpose.ALERT,
                Notification.phone == taker.phone,
                Notification.tier == alert.tier,
                Notification.round == alert.round,
            )
            .limit(1)
        )
        if asked_now is not None:
            await self.escalation.step(session, alert, now, effects, f"{taker.name} declined")

    async def _asked(
        self, session: AsyncSession, alert: Alert, exclude_phone: str | None = None
    ) -> list[tuple[str, str | None]]:
        """Everyone a request SMS for ``alert`` actually went out to (not those cancelled before
        sending), volunteers and family alike: (phone, volunteer id or None), in phone order."""
        asked = (
            await session.execute(
                select(Notification.phone, func.max(Notification.volunteer_id))
                .where(
                    Notification.alert_id == alert.id,
                    Notification.purpose.in_(ASKING),
                    Notification.status.not_in(
                        [NotificationStatus.PENDING, NotificationStatus.CANCELLED, NotificationStatus.REJECTED]
                    ),
                )
                .group_by(Notification.phone)
                .order_by(Notification.phone)
            )
        ).all()
        return [(phone, volunteer_id) for phone, volunteer_id in asked if phone != exclude_phone]

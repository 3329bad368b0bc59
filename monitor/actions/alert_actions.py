"""What people, devices and supervision do to alerts: raise, take, set off, arrive, hand back,
resolve, cancel, decline.

The single door: device events (``monitor.ingest.device_events``), SMS replies
(``monitor.actions.replies``), the console and the API (``monitor.actions.console``) and
supervision (``monitor.watch``) all act on alerts through ``AlertActions``, so an alert
behaves the same whoever acts on it. Each action runs inside the caller's transaction,
changes state only through ``monitor.alerts.lifecycle.transition``, writes the audit log,
queues the notifications it implies and the device feedback, and leaves the rest to
``Effects`` (carried out after the commit).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.actions.feedback import first_name, queue_feedback
from monitor.alerts.follow_up import Deadlines, FollowUp, schedule, stamp
from monitor.alerts.lifecycle import ESCALATING_KINDS, AlertKind, AlertState, Outcome, transition
from monitor.alerts.log import log_entry
from monitor.core.effects import Effects
from monitor.core.metrics import Metrics
from monitor.directory.model import DEFAULT_ARRIVE_WITHIN_S, DEFAULT_POLICY_ID, DEFAULT_RESOLVE_WITHIN_S
from monitor.escalation.engine import Escalation
from monitor.escalation.policy import policy_id_for
from monitor.escalation.step_reads import StepReads
from monitor.notify import texts
from monitor.notify.facts import load_facts
from monitor.notify.requests import ASKING, NotificationStatus, Purpose, queue_sms
from monitor.oncall.inform import inform_ended, inform_progress
from monitor.oncall.people import Recipient, holder_of
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
#: A message to whoever holds an alert, in their language.
HolderMessage = Callable[[texts.AlertFacts, str], texts.Message]


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
    def language(self) -> str | None:
        """What the volunteer or family member reads (console users are not written to)."""
        if self.volunteer is not None:
            return self.volunteer.language
        return self.family.language if self.family is not None else None

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
        for phone, volunteer_id, language in await self._asked(session, alert, exclude_phone=taker.phone):
            await queue_sms(
                session,
                effects,
                phone=phone,
                message=texts.taken(facts, taker.name, language or resident_language),
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
                message=texts.ack_confirmation(facts, taker.language or resident_language),
                purpose=Purpose.CONFIRMATION,
                now=now,
                alert_id=alert.id,
                volunteer_id=taker.volunteer.id if taker.volunteer is not None else None,
                key=confirmation_key,
            )
        await queue_feedback(session, effects, alert, "acknowledged", by=first_name(taker.name))
        await inform_progress(session, effects, alert, "taken", helper=first_name(taker.name), eta="", now=now)
        await self.follow_up(session, effects, alert, now)

    async def set_off(
        self,
        session: AsyncSession,
        effects: Effects,
        alert: Alert,
        *,
        taker: Taker,
        now: datetime,
        minutes: int | None,
        via: str,
    ) -> None:
        """Whoever holds ``alert`` is on the way, there in ``minutes`` when they said; said again on
        the way, it is a new estimate. The arrival deadline follows an estimate that runs over."""
        eta = now + timedelta(minutes=minutes) if minutes is not None else None
        said = f"{taker.name} on the way{f', there in {minutes} min' if minutes is not None else ''} ({via})"
        if alert.state == AlertState.EN_ROUTE:
            alert.eta = eta or alert.eta
            log_entry(session, alert.id, at=now, kind="eta", detail=said, actor=taker.actor)
        else:
            session.add(transition(alert, AlertState.EN_ROUTE, at=now, actor=taker.actor, detail=said, eta=eta))
        effects.changed_alert_ids.add(alert.id)
        await queue_feedback(session, effects, alert, "en_route", by=first_name(taker.name), eta_min=minutes)
        eta_text = self.escalation.style.local_time(alert.eta) if alert.eta is not None else ""
        await inform_progress(
            session, effects, alert, "on_the_way", helper=first_name(taker.name), eta=eta_text, now=now
        )
        await self.follow_up(session, effects, alert, now)

    async def arrive(
        self, session: AsyncSession, effects: Effects, alert: Alert, *, taker: Taker, now: datetime, via: str
    ) -> None:
        """Whoever holds ``alert`` is with the resident (``via``: how we know: their reply, the
        responder page, their phone's position, duty staff on their behalf)."""
        session.add(
            transition(
                alert,
                AlertState.ON_SITE,
                at=now,
                actor=taker.actor,
                by=taker.by,
                detail=f"{taker.name} on site ({via})",
            )
        )
        effects.changed_alert_ids.add(alert.id)
        await queue_feedback(session, effects, alert, "on_site", by=first_name(taker.name))
        await inform_progress(session, effects, alert, "arrived", helper=first_name(taker.name), eta="", now=now)
        await self.follow_up(session, effects, alert, now)

    async def hand_back(
        self,
        session: AsyncSession,
        effects: Effects,
        alert: Alert,
        *,
        taker: Taker,
        now: datetime,
        reason: str,
        ask_now: bool = True,
    ) -> None:
        """The holder cannot go after all: the alert is open again, the next people (the next nearest,
        or the next tier) are asked now, and duty staff are told who handed it back and why.
        ``ask_now=False``, for a process that sends nothing itself (``callwatch import --reassign``):
        the next people are asked by whichever monitor's escalation timer looks first (within a second)."""
        why = reason.strip()[:200]
        await self.reopen(
            session,
            effects,
            alert,
            actor=taker.actor,
            now=now,
            detail=f"{taker.name} handed it back" + (f": {why}" if why else " (no reason given)"),
            duty_reason="handed_back",
            why=why,
        )
        if ask_now:
            await self.escalation.step(session, alert, now, effects, f"{taker.name} handed it back")
        else:
            alert.next_escalation_at = now
            effects.timer_set(now)

    async def reopen(
        self,
        session: AsyncSession,
        effects: Effects,
        alert: Alert,
        *,
        actor: str,
        now: datetime,
        detail: str,
        duty_reason: str | None,
        why: str = "",
        reads: StepReads | None = None,
    ) -> Recipient | None:
        """Take a taken ``alert`` back from its holder: open again, to be asked further by the caller.
        Duty staff are told when there is a ``duty_reason`` (handed_back, arrival_overdue; not when
        they did it themselves at the console). Returns the former holder, if they have a phone."""
        holder_name, since = await self._holder_name(session, alert), alert.taken_at or now
        holder = await holder_of(session, alert.acknowledged_by)
        session.add(transition(alert, AlertState.OPEN, at=now, actor=actor, detail=detail))
        alert.unanswered = False  # asked again from where it stood, whoever had been asked before
        effects.changed_alert_ids.add(alert.id)
        await queue_feedback(session, effects, alert, "received")
        if duty_reason is None:
            return holder
        reads = reads or self.escalation.reads(session, now)
        facts, _ = await reads.facts(alert)
        style = self.escalation.style
        await self.escalation.tell_duty(
            reads,
            alert,
            effects,
            lambda language: texts.duty_notice(
                facts, duty_reason, holder=holder_name, since=since, language=language, style=style, why=why
            ),
            occasion=f"{duty_reason}:{stamp(since)}",
        )
        return holder

    async def tell_holder(
        self,
        session: AsyncSession,
        effects: Effects,
        alert: Alert,
        holder: Recipient | None,
        message: HolderMessage,
        *,
        occasion: str,
        now: datetime,
        reads: StepReads | None = None,
    ) -> None:
        """Send whoever holds (or held) ``alert`` ``message``, in their language, once per ``occasion``.
        ``reads``: the batch's reads, when a timer step tells many holders in one transaction."""
        if holder is None:
            return
        reads = reads or self.escalation.reads(session, now)
        facts, _ = await reads.facts(alert)
        await queue_sms(
            session,
            effects,
            phone=holder.phone,
            message=message(facts, holder.language),
            purpose=Purpose.FOLLOW_UP,
            now=now,
            alert_id=alert.id,
            volunteer_id=holder.volunteer_id,
            key=f"{alert.id}:follow_up:{occasion}:{holder.phone}",
            opted_out=await reads.opted_out([holder.phone]),
        )

    async def follow_up(
        self,
        session: AsyncSession,
        effects: Effects,
        alert: Alert,
        now: datetime,
        *,
        after: FollowUp | None = None,
        reads: StepReads | None = None,
    ) -> None:
        """Set the taken ``alert``'s next follow-through step (``monitor.alerts.follow_up``): only for
        alerts that escalate and a holder who can be reached (not a console user handling it)."""
        if alert.kind not in ESCALATING_KINDS or (alert.acknowledged_by or "user:").startswith("user:"):
            alert.follow_up = alert.follow_up_at = None
            return
        policy = await self.escalation.policy_for(reads or self.escalation.reads(session, now), alert)
        deadlines = Deadlines(
            timedelta(seconds=policy.arrive_within_s if policy else DEFAULT_ARRIVE_WITHIN_S),
            timedelta(seconds=policy.resolve_within_s if policy else DEFAULT_RESOLVE_WITHIN_S),
        )
        schedule(alert, deadlines, now, after=after)
        if alert.follow_up_at is not None:
            effects.timer_set(alert.follow_up_at)

    async def _holder_name(self, session: AsyncSession, alert: Alert) -> str:
        """Who holds ``alert``, as people call them (a console user's name after "user:")."""
        holder = await holder_of(session, alert.acknowledged_by)
        if holder is not None:
            return holder.name
        return (alert.acknowledged_by or "?").removeprefix("user:")

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
        for phone, volunteer_id, language in await self._asked(session, alert):
            await queue_sms(
                session,
                effects,
                phone=phone,
                message=texts.cancelled(facts, language or resident_language),
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
        facts, _ = await load_facts(session, alert)
        await queue_sms(
            session,
            effects,
            phone=taker.phone,
            message=texts.cancel_after_ack(facts, taker.language),
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
    ) -> list[tuple[str, str | None, str | None]]:
        """Everyone a request SMS for ``alert`` actually went out to (not those cancelled before
        sending), volunteers and family alike: (phone, volunteer id or None, their language when
        known), in phone order."""
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
        phones = [phone for phone, _ in asked if phone != exclude_phone]
        languages = dict(
            (
                await session.execute(
                    select(FamilyContact.phone, FamilyContact.language).where(FamilyContact.phone.in_(phones))
                )
            ).all()
        )
        languages |= dict(
            (
                await session.execute(select(Volunteer.phone, Volunteer.language).where(Volunteer.phone.in_(phones)))
            ).all()
        )
        return [(phone, volunteer_id, languages.get(phone)) for phone, volunteer_id in asked if phone != exclude_phone]

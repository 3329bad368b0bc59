"""Escalation: who is asked to take an open alert, and when the next people are asked.

An alert's position (``tier``, ``round``) and its next due time (``next_escalation_at``)
live in the alert row. Each step runs in a database transaction that queues the step's
SMS rows and moves the position together, so a monitor killed at any line resumes on
restart exactly where the database says, and nobody is asked twice for the same step
(the SMS rows' unique ``dedupe_key``; DESIGN.md invariants 2 and 3).

    tier 0 ─timeout─► tier 1 ─timeout─► ... last tier ─timeout─► (repeat rounds) ─► UNANSWERED

Who a tier asks is decided by ``monitor.escalation.audience``: only people on call at that moment
(schedules, OFF / PAUSE replies, STOP opt-outs). A tier with nobody to ask is skipped at
once, and the skip is written to the log with who was left out and why. A tier ordered
"nearest" asks one person at a time, nearest to the alert's position first, each for the
tier's ``per_person_timeout_s``; its ``ack_timeout_s`` then runs from when its last person
was asked (for an ordinary tier, when everyone was asked at once). Policies that inform
the family tell them when the alert is raised (here) and when it ends (``AlertActions``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.alerts.lifecycle import ESCALATING_KINDS, AlertState
from monitor.core.clock import Clock
from monitor.core.effects import AfterCommit, Effects
from monitor.core.loop_stop import LoopStop
from monitor.core.metrics import Metrics
from monitor.escalation.audience import Audience, Recipient, explain_skip, tier_audience
from monitor.escalation.step_reads import StepRoster
from monitor.notify.requests import UNREACHED, Purpose, SmsRequest, queue_sms_many
from monitor.notify.texts import MessageStyle, alert_text, unanswered_text
from monitor.oncall.fairness import Load
from monitor.oncall.inform import inform_raised
from monitor.runtime.watchdog import Heartbeat
from monitor.store.database import Database
from monitor.store.models import Alert, AlertEvent, EscalationPolicy, Notification, SmsOptOut

log = logging.getLogger("callwatch.escalation")

#: Waits at most the seconds given until the SMS handed over so far have reached the provider.
SmsAnswered = Callable[[float], Awaitable[None]]

#: How often the loop looks for due work even when nothing woke it (other monitors, clock jumps).
IDLE_CHECK_S = 1.0
#: Steps per transaction: in a storm, fewer transactions is less Python per alert.
DUE_BATCH = 100
#: In a storm, how long a batch's SMS may take to reach the provider before the next batch goes on anyway.
BATCH_SMS_WAIT_S = 1.0


@dataclass(frozen=True, slots=True)
class Tier:
    notify: tuple[str, ...]
    ack_timeout_s: int
    #: "together" (everyone at once) or "nearest" (one at a time, nearest first)
    order: str = "together"
    per_person_timeout_s: int = 60

    @property
    def one_at_a_time(self) -> bool:
        return self.order == "nearest"

    @classmethod
    def from_json(cls, tier: dict[str, Any]) -> Tier:
        return cls(
            tuple(str(target) for target in tier["notify"]),
            int(tier["ack_timeout_s"]),
            str(tier.get("order", "together")),
            int(tier.get("per_person_timeout_s", 60)),
        )


@dataclass(frozen=True, slots=True)
class Policy:
    id: str
    tiers: tuple[Tier, ...]
    repeat: int
    #: told when an alert is raised and when it ends, never asked: ("family",)
    inform: tuple[str, ...] = ()

    @classmethod
    def from_row(cls, row: EscalationPolicy) -> Policy:
        return cls(
            id=row.id,
            tiers=tuple(Tier.from_json(tier) for tier in row.tiers),
            repeat=row.repeat,
            inform=tuple(row.inform or ()),
        )


def next_position(policy: Policy, tier: int, round_number: int) -> tuple[int, int] | None:
    """The (tier, round) after this one, or None when every tier of every round was asked."""
    if tier + 1 < len(policy.tiers):
        return tier + 1, round_number
    if round_number < policy.repeat:
        return 0, round_number + 1
    return None


class Escalation:
    """The escalation engine: starts, advances and times alerts' escalations."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        style: MessageStyle,
        metrics: Metrics,
        *,
        after_commit: AfterCommit,
    ) -> None:
        self.database = database
        self.clock = clock
        self.style = style
        self.metrics = metrics
        self.after_commit = after_commit
        self._wake = asyncio.Event()
        #: when the idle loop will look again by itself (None while it is not idle)
        self._looks_again_at: datetime | None = None

    def timer_set(self, at: datetime) -> None:
        """A committed transaction set an alert's timer to ``at``: wake the loop if it would look too late.

        Not on every new timer: the loop looks at least every ``IDLE_CHECK_S``, and a read
        transaction per press right after its commit would compete with the press's SMS.
        """
        if self._looks_again_at is None or at < self._looks_again_at:
            self._wake.set()

    # -- steps, each inside the caller's transaction --------------------------------------

    async def start(
        self, session: AsyncSession, alert: Alert, now: datetime, effects: Effects, opening: AlertEvent
    ) -> None:
        """Ask the first tier about a new, not yet flushed ``alert``; ``opening`` is its first log entry.

        The alert is inserted once, with its escalation timer already set, when its number is
        first needed: one INSERT instead of an INSERT and an UPDATE on the path of every press.
        """
        roster = self.roster(session, now)
        if alert.kind not in ESCALATING_KINDS:
            # Device-health alerts wake nobody tier by tier: staff get them batched (monitor.watch).
            await self._record(roster, alert, opening)
            return
        with session.no_autoflush:
            policy = await self._policy(roster, alert)
        if policy is None:
            await self._record(roster, alert, opening)
            await self._flag_unanswered(roster, alert, effects, "no escalation policy applies")
            return
        await self._ask_from(roster, alert, policy, (0, 0), effects, opening)
        await inform_raised(session, effects, alert, policy.inform, self.style, now)

    def roster(self, session: AsyncSession, now: datetime) -> StepRoster:
        """A fresh memory of who can be asked, for steps inside this one transaction only."""
        return StepRoster(session, now, self.style.timezone)

    async def step(
        self,
        session: AsyncSession,
        alert: Alert,
        now: datetime,
        effects: Effects,
        reason: str,
        roster: StepRoster | None = None,
    ) -> None:
        """Go on with an open alert now (a timeout, a decline, an SMS that cannot arrive): in a
        tier that asks one person at a time, ask the next nearest; otherwise the next tier.
        ``roster``: the transaction's, when it takes several steps; else one is made for this step."""
        if alert.state != AlertState.OPEN or alert.unanswered:
            return
        roster = roster or self.roster(session, now)
        policy = await self._policy(roster, alert)
        tier = policy.tiers[alert.tier] if policy is not None and alert.tier < len(policy.tiers) else None
        if tier is not None and tier.one_at_a_time:
            audience = await self._audience(roster, alert, tier, fresh_round=False)
            if audience.to_ask and audience.point is not None:
                session.add(
                    AlertEvent(
                        alert_id=alert.id,
                        at=now,
                        kind="next_nearest",
                        actor="system",
                        detail=f"{reason}; asking the next nearest of tier {alert.tier + 1}",
                    )
                )
                await self._ask(roster, alert, tier, audience, effects)
                return
        await self.advance(session, alert, now, effects, reason, roster)

    async def advance(
        self,
        session: AsyncSession,
        alert: Alert,
        now: datetime,
        effects: Effects,
        reason: str,
        roster: StepRoster | None = None,
    ) -> None:
        """Move an open alert to its next tier now (timeout, decline, or nobody reachable)."""
        if alert.state != AlertState.OPEN or alert.unanswered:
            return
        roster = roster or self.roster(session, now)
        escalated = AlertEvent(alert_id=alert.id, at=now, kind="escalated", actor="system", detail=reason)
        policy = await self._policy(roster, alert)
        following = next_position(policy, alert.tier, alert.round) if policy else None
        if policy is None or following is None:
            await self._record(roster, alert, escalated)
            await self._flag_unanswered(roster, alert, effects, "every tier was asked and nobody took it")
            return
        await self._ask_from(roster, alert, policy, following, effects, escalated)

    async def on_unreachable(
        self, session: AsyncSession, notification: Notification, now: datetime, effects: Effects
    ) -> None:
        """A request SMS can no longer arrive: if nobody in its tier can be reached, move on now."""
        if notification.alert_id is None or notification.purpose != Purpose.ALERT:
            return
        alert = await session.get(Alert, notification.alert_id, with_for_update=True)
        if alert is None or alert.state != AlertState.OPEN or alert.unanswered:
            return
        if (notification.tier, notification.round) != (alert.tier, alert.round):
            return
        if not await self._reachable_askees(session, alert):
            await self.step(
                session, alert, now, effects, f"nobody asked in tier {alert.tier + 1} could be reached by SMS"
            )
            effects.changed_alert_ids.add(alert.id)

    async def on_opt_out(self, session: AsyncSession, phone: str, now: datetime, effects: Effects) -> None:
        """``phone`` replied STOP and will hear nothing more: an open alert that was waiting
        only on it (and others who cannot be reached) moves on now rather than at its timeout."""
        waiting = (
            await session.scalars(
                select(Notification.alert_id)
                .join(Alert, Alert.id == Notification.alert_id)
                .where(
                    Notification.phone == phone,
                    Notification.purpose == Purpose.ALERT,
                    Notification.tier == Alert.tier,
                    Notification.round == Alert.round,
                    Alert.state == AlertState.OPEN,
                )
            )
        ).all()
        roster = self.roster(session, now)
        for alert_id in sorted({alert_id for alert_id in waiting if alert_id is not None}):
            alert = await session.get(Alert, alert_id, with_for_update=True)
            if alert is None or alert.state != AlertState.OPEN or alert.unanswered:
                continue
            if not await self._reachable_askees(session, alert):
                await self.step(
                    session,
                    alert,
                    now,
                    effects,
                    f"everyone asked in tier {alert.tier + 1} opted out of SMS (STOP)",
                    roster,
                )
                effects.changed_alert_ids.add(alert.id)

    async def _reachable_askees(self, session: AsyncSession, alert: Alert) -> int:
        """How many of those asked at the alert's current tier and round may still get the SMS and answer."""
        reachable = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(
                Notification.alert_id == alert.id,
                Notification.purpose == Purpose.ALERT,
                Notification.tier == alert.tier,
                Notification.round == alert.round,
                Notification.status.not_in(UNREACHED),
                Notification.phone.not_in(select(SmsOptOut.phone)),
            )
        )
        return int(reachable or 0)

    async def _ask_from(
        self,
        roster: StepRoster,
        alert: Alert,
        policy: Policy,
        position: tuple[int, int] | None,
        effects: Effects,
        opening: AlertEvent,
    ) -> None:
        """Ask the tier at ``position``, skipping forward at once over tiers with nobody to ask."""
        session, now = roster.session, roster.now
        while position is not None:
            tier_index, round_number = position
            tier = policy.tiers[tier_index]
            alert.tier, alert.round = tier_index, round_number
            with session.no_autoflush:
                # A round starts with its first tier: nobody was asked in it yet.
                audience = await self._audience(roster, alert, tier, fresh_round=tier_index == 0)
            if audience.to_ask:
                await self._ask(roster, alert, tier, audience, effects, opening=opening)
                return
            await self._record(roster, alert, opening)
            session.add(
                AlertEvent(
                    alert_id=alert.id,
                    at=now,
                    kind="tier_skipped",
                    actor="system",
                    detail=explain_skip(tier_index, round_number, audience, now, self.style.timezone),
                )
            )
            position = next_position(policy, tier_index, round_number)
        await self._flag_unanswered(roster, alert, effects, "every tier was asked and nobody took it")

    async def _audience(self, roster: StepRoster, alert: Alert, tier: Tier, *, fresh_round: bool) -> Audience:
        """Whom ``tier`` means for ``alert`` now, leaving out everyone asked already in this round."""
        asked = set() if fresh_round else await roster.asked_phones(alert.id, alert.round)
        return await tier_audience(roster, tier.notify, alert, already_asked=asked, nearest_first=tier.one_at_a_time)

    async def _ask(
        self,
        roster: StepRoster,
        alert: Alert,
        tier: Tier,
        audience: Audience,
        effects: Effects,
        *,
        opening: AlertEvent | None = None,
    ) -> None:
        """Ask ``audience.to_ask`` (all of them, or in a nearest-first tier the nearest) and set the
        timer; ``opening``: the log entry that comes first (a new alert's "raised")."""
        session, now = roster.session, roster.now
        chosen, wait = audience.to_ask, tier.ack_timeout_s
        if tier.one_at_a_time and audience.point is not None:
            chosen = chosen[:1]
            if len(audience.to_ask) > 1:
                wait = tier.per_person_timeout_s  # more to ask after this one
        # Set before a new alert's first flush, so it is inserted with its timer (no UPDATE after).
        alert.next_escalation_at = now + timedelta(seconds=wait)
        if opening is not None:
            await self._record(roster, alert, opening)
        if tier.one_at_a_time and audience.point is None:
            session.add(
                AlertEvent(
                    alert_id=alert.id,
                    at=now,
                    kind="note",
                    actor="system",
                    detail=f"no position known for this alert (device or resident's home): "
                    f"tier {alert.tier + 1} asked together, not nearest first",
                )
            )
        facts, language = await roster.facts(alert)
        bodies = [
            alert_text(
                facts,
                recipient.language if recipient.family is not None else language,
                self.style,
                round_number=alert.round,
                distance_m=recipient.distance_m,
            )
            for recipient in chosen
        ]
        await self._queue_requests(roster, alert, chosen, bodies, Purpose.ALERT, effects)
        effects.timer_set(alert.next_escalation_at)
        effects.changed_alert_ids.add(alert.id)

    async def _record(self, roster: StepRoster, alert: Alert, entry: AlertEvent) -> None:
        """Give a new alert its id and put ``entry`` in its log (once)."""
        session = roster.session
        if alert.id is None:
            await session.flush()
            roster.new_alert(alert.id)
        if entry.alert_id is None:
            entry.alert_id = alert.id
        if entry not in session:
            session.add(entry)

    async def _flag_unanswered(self, roster: StepRoster, alert: Alert, effects: Effects, reason: str) -> None:
        session, now = roster.session, roster.now
        alert.unanswered = True
        alert.next_escalation_at = None
        effects.changed_alert_ids.add(alert.id)
        session.add(AlertEvent(alert_id=alert.id, at=now, kind="unanswered", actor="system", detail=reason))
        self.metrics.alerts_unanswered.inc()
        duty, fallback = await roster.staff_on_call()
        if fallback and duty:
            session.add(
                AlertEvent(
                    alert_id=alert.id,
                    at=now,
                    kind="note",
                    actor="system",
                    detail="no duty staff phone is on call now: telling every staff phone that has not opted out",
                )
            )
        if not duty:
            session.add(
                AlertEvent(
                    alert_id=alert.id,
                    at=now,
                    kind="note",
                    actor="system",
                    detail="no duty staff phone (role staff) in the directory to tell",
                )
            )
            return
        facts, language = await roster.facts(alert)
        body = unanswered_text(facts, language, self.style)
        recipients = [Recipient(person.phone, person.name, person.language, volunteer=person) for person in duty]
        await self._queue_requests(roster, alert, recipients, [body] * len(recipients), Purpose.UNANSWERED, effects)

    async def _queue_requests(
        self,
        roster: StepRoster,
        alert: Alert,
        recipients: Sequence[Recipient],
        bodies: Sequence[str],
        purpose: Purpose,
        effects: Effects,
    ) -> None:
        session, now = roster.session, roster.now
        # Each request's log entry states the volunteer's recent load, so duty staff can spread it.
        with session.no_autoflush:
            load = await roster.recent_load(
                alert.id, [recipient.volunteer_id for recipient in recipients if recipient.volunteer_id]
            )
            opted_out = await roster.opted_out(recipient.phone for recipient in recipients)
        # Log entries wait for the commit, where they go in together as one INSERT.
        requests = [
            SmsRequest(
                phone=recipient.phone,
                body=body,
                purpose=purpose,
                alert_id=alert.id,
                volunteer_id=recipient.volunteer_id,
                tier=alert.tier,
                round_number=alert.round,
            )
            for recipient, body in zip(recipients, bodies, strict=True)
        ]
        with session.no_autoflush:
            queued = await queue_sms_many(session, effects, requests, now, opted_out=opted_out)
        where = "duty staff" if purpose is Purpose.UNANSWERED else f"tier {alert.tier + 1}"
        for recipient, notification_id in zip(recipients, queued, strict=True):
            if notification_id is None:
                continue
            roster.queued(alert.id, recipient.phone, recipient.volunteer_id, purpose, alert.round)
            detail = f"SMS to {recipient.name} ({recipient.phone}), {where}, round {alert.round + 1}"
            if recipient.family is not None:
                detail += ", family"
            if recipient.distance_m is not None:
                detail += f", {round(recipient.distance_m)} m from the resident"
            if recipient.volunteer_id is not None:
                detail += f"; {load.get(recipient.volunteer_id, Load()).text()}"
            session.add(
                AlertEvent(
                    alert_id=alert.id,
                    at=now,
                    kind="notified",
                    actor="system",
                    detail=detail,
                    notification_id=notification_id,
                )
            )

    async def _policy(self, roster: StepRoster, alert: Alert) -> Policy | None:
        for policy_id in (alert.policy_id, "default"):
            if policy_id is None:
                continue
            row = await roster.policy(policy_id)
            if row is not None and row.tiers:
                return Policy.from_row(row)
        return None

    # -- the timer loop ----------------------------------------------------------------------

    async def run_due(self) -> int:
        """Advance every open alert whose timeout has passed; how many were advanced."""
        now = self.clock.now()

        async def advance_due(session: AsyncSession) -> tuple[int, Effects]:
            effects = Effects()
            due = (
                await session.scalars(
                    select(Alert)
                    .where(
                        Alert.state == AlertState.OPEN,
                        Alert.next_escalation_at.is_not(None),
                        Alert.next_escalation_at <= now,
                    )
                    .order_by(Alert.next_escalation_at)
                    .limit(DUE_BATCH)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            # One roster and one read of the batch's residents and SMS rows serve every step;
            # the steps' changes are written together at the commit, not flushed step by step.
            roster = self.roster(session, now)
            with session.no_autoflush:
                await roster.prefetch(due)
                for alert in due:
                    if alert.next_escalation_at is not None:
                        self.metrics.escalation_lag.observe((now - alert.next_escalation_at).total_seconds())
                    reason = f"nobody took it within tier {alert.tier + 1}'s timeout"
                    await self.step(session, alert, now, effects, reason, roster)
            return len(due), effects

        advanced, effects = await self.database.transact(advance_due, urgent=True)
        await self.after_commit(effects)
        return advanced

    async def next_due(self) -> datetime | None:
        async with self.database.read() as session:
            result: datetime | None = await session.scalar(
                select(func.min(Alert.next_escalation_at)).where(Alert.state == AlertState.OPEN)
            )
            return result

    async def run(self, heartbeat: Heartbeat, stop: LoopStop, sms_answered: SmsAnswered | None = None) -> None:
        """Keep every escalation on time until stopped, beating ``heartbeat`` as the loop turns.

        ``sms_answered``: waits (at most the seconds given) until the provider has answered
        the SMS requests of the steps so far. In a storm (more steps due than one batch), each
        batch's SMS go out before the next batch is worked out, and bookkeeping waits
        (``Database.urgent_burst``): on one core, the last SMS goes out soonest that way.
        """
        while not stop.requested:
            heartbeat.beat()
            self._wake.clear()
            self._looks_again_at = None
            try:
                due = await self.next_due()
                # A read decides whether the write lock is needed at all.
                if due is not None and due <= self.clock.now():
                    async with self.database.urgent_burst():
                        while await self.run_due() == DUE_BATCH:
                            heartbeat.beat()
                            if sms_answered is not None:
                                await sms_answered(BATCH_SMS_WAIT_S)
                    due = await self.next_due()
            except Exception:  # a bug or a database outage must not end escalation for good
                log.exception("escalation pass failed; retrying")
                due = None
                if not await stop.idle(IDLE_CHECK_S):
                    return
            wait = IDLE_CHECK_S
            if due is not None:
                wait = min(wait, (due - self.clock.now()).total_seconds())
            self._looks_again_at = self.clock.now() + timedelta(seconds=wait)
            await stop.idle(wait, self._wake)

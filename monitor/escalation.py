"""Escalation: who is asked to take an open alert, and when the next people are asked.

An alert's position (``tier``, ``round``) and its next due time (``next_escalation_at``)
live in the alert row. Each step runs in a database transaction that queues the step's
SMS rows and moves the position together, so a monitor killed at any line resumes on
restart exactly where the database says, and nobody is asked twice for the same step
(the SMS rows' unique ``dedupe_key``; DESIGN.md invariants 2 and 3).

    tier 0 ─timeout─► tier 1 ─timeout─► ... last tier ─timeout─► (repeat rounds) ─► UNANSWERED

A tier with nobody left to ask is skipped at once, and the skip is written to the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.alerts.facts import load_facts
from monitor.alerts.lifecycle import AlertState
from monitor.clock import Clock
from monitor.effects import AfterCommit, Effects
from monitor.metrics import Metrics
from monitor.notifications import ASKING, UNREACHED, Purpose, queue_sms
from monitor.recipients import resolve_targets, staff
from monitor.sms.messages import MessageStyle, alert_text, unanswered_text
from monitor.store.database import Database
from monitor.store.models import Alert, AlertEvent, EscalationPolicy, Notification, Volunteer

log = logging.getLogger("callwatch.escalation")

#: How often the loop looks for due work even when nothing woke it (other monitors, clock jumps).
IDLE_CHECK_S = 1.0
DUE_BATCH = 200


@dataclass(frozen=True, slots=True)
class Tier:
    notify: tuple[str, ...]
    ack_timeout_s: int


@dataclass(frozen=True, slots=True)
class Policy:
    id: str
    tiers: tuple[Tier, ...]
    repeat: int

    @classmethod
    def from_row(cls, row: EscalationPolicy) -> Policy:
        return cls(
            id=row.id,
            tiers=tuple(
                Tier(tuple(str(target) for target in tier["notify"]), int(tier["ack_timeout_s"])) for tier in row.tiers
            ),
            repeat=row.repeat,
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

    def wake(self) -> None:
        self._wake.set()

    # -- steps, each inside the caller's transaction --------------------------------------

    async def start(self, session: AsyncSession, alert: Alert, now: datetime, effects: Effects) -> None:
        """Ask the first tier about a new alert."""
        policy = await self._policy(session, alert)
        if policy is None:
            await self._flag_unanswered(session, alert, now, effects, "no escalation policy applies")
            return
        await self._ask_from(session, alert, policy, (0, 0), now, effects)

    async def advance(self, session: AsyncSession, alert: Alert, now: datetime, effects: Effects, reason: str) -> None:
        """Move an open alert to its next tier now (timeout, decline, or nobody reachable)."""
        if alert.state != AlertState.OPEN or alert.unanswered:
            return
        session.add(AlertEvent(alert_id=alert.id, at=now, kind="escalated", actor="system", detail=reason))
        policy = await self._policy(session, alert)
        following = next_position(policy, alert.tier, alert.round) if policy else None
        if policy is None or following is None:
            await self._flag_unanswered(session, alert, now, effects, "every tier was asked and nobody took it")
            return
        await self._ask_from(session, alert, policy, following, now, effects)

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
        reachable = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(
                Notification.alert_id == alert.id,
                Notification.purpose == Purpose.ALERT,
                Notification.tier == alert.tier,
                Notification.round == alert.round,
                Notification.status.not_in(UNREACHED),
            )
        )
        if not reachable:
            await self.advance(session, alert, now, effects, f"nobody in tier {alert.tier + 1} could be reached by SMS")
            effects.changed_alert_ids.add(alert.id)

    async def _ask_from(
        self,
        session: AsyncSession,
        alert: Alert,
        policy: Policy,
        position: tuple[int, int] | None,
        now: datetime,
        effects: Effects,
    ) -> None:
        """Ask the tier at ``position``, skipping forward over tiers with nobody to ask."""
        while position is not None:
            tier_index, round_number = position
            tier = policy.tiers[tier_index]
            alert.tier, alert.round = tier_index, round_number
            asked = await self._ask_tier(session, alert, tier, now, effects)
            if asked:
                alert.next_escalation_at = now + timedelta(seconds=tier.ack_timeout_s)
                effects.schedule_changed = True
                effects.changed_alert_ids.add(alert.id)
                return
            session.add(
                AlertEvent(
                    alert_id=alert.id,
                    at=now,
                    kind="tier_skipped",
                    actor="system",
                    detail=f"tier {tier_index + 1} (round {round_number + 1}) had nobody left to ask",
                )
            )
            position = next_position(policy, tier_index, round_number)
        await self._flag_unanswered(session, alert, now, effects, "every tier was asked and nobody took it")

    async def _ask_tier(self, session: AsyncSession, alert: Alert, tier: Tier, now: datetime, effects: Effects) -> int:
        """Queue the request SMS for everyone in ``tier`` not yet asked this round; how many."""
        volunteers = await resolve_targets(session, tier.notify, alert.area_id)
        already = set(
            (
                await session.scalars(
                    select(Notification.volunteer_id).where(
                        Notification.alert_id == alert.id,
                        Notification.purpose.in_(ASKING),
                        Notification.round == alert.round,
                    )
                )
            ).all()
        )
        fresh = [volunteer for volunteer in volunteers if volunteer.id not in already]
        if not fresh:
            return 0
        facts, language = await load_facts(session, alert)
        body = alert_text(facts, language, self.style, round_number=alert.round)
        await self._queue_requests(session, alert, fresh, body, Purpose.ALERT, now, effects)
        return len(fresh)

    async def _flag_unanswered(
        self, session: AsyncSession, alert: Alert, now: datetime, effects: Effects, reason: str
    ) -> None:
        alert.unanswered = True
        alert.next_escalation_at = None
        effects.changed_alert_ids.add(alert.id)
        session.add(AlertEvent(alert_id=alert.id, at=now, kind="unanswered", actor="system", detail=reason))
        self.metrics.alerts_unanswered.inc()
        duty = await staff(session)
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
        facts, language = await load_facts(session, alert)
        body = unanswered_text(facts, language, self.style)
        await self._queue_requests(session, alert, duty, body, Purpose.UNANSWERED, now, effects)

    async def _queue_requests(
        self,
        session: AsyncSession,
        alert: Alert,
        volunteers: Sequence[Volunteer],
        body: str,
        purpose: Purpose,
        now: datetime,
        effects: Effects,
    ) -> None:
        for volunteer in volunteers:
            notification_id = await queue_sms(
                session,
                effects,
                phone=volunteer.phone,
                body=body,
                purpose=purpose,
                now=now,
                alert_id=alert.id,
                volunteer_id=volunteer.id,
                tier=alert.tier,
                round_number=alert.round,
            )
            if notification_id is not None:
                where = "duty staff" if purpose is Purpose.UNANSWERED else f"tier {alert.tier + 1}"
                session.add(
                    AlertEvent(
                        alert_id=alert.id,
                        at=now,
                        kind="notified",
                        actor="system",
                        detail=f"SMS queued to {volunteer.name} ({volunteer.phone}), {where}, round {alert.round + 1}",
                        notification_id=notification_id,
                    )
                )

    async def _policy(self, session: AsyncSession, alert: Alert) -> Policy | None:
        for policy_id in (alert.policy_id, "default"):
            if policy_id is None:
                continue
            row = await session.get(EscalationPolicy, policy_id)
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
            for alert in due:
                if alert.next_escalation_at is not None:
                    self.metrics.escalation_lag.observe((now - alert.next_escalation_at).total_seconds())
                await self.advance(
                    session, alert, now, effects, f"nobody took it within tier {alert.tier + 1}'s timeout"
                )
            return len(due), effects

        advanced, effects = await self.database.transact(advance_due)
        await self.after_commit(effects)
        return advanced

    async def next_due(self) -> datetime | None:
        async with self.database.read() as session:
            result: datetime | None = await session.scalar(
                select(func.min(Alert.next_escalation_at)).where(Alert.state == AlertState.OPEN)
            )
            return result

    async def run(self) -> None:
        """Keep every escalation on time until cancelled."""
        while True:
            self._wake.clear()
            try:
                while await self.run_due() == DUE_BATCH:
                    pass
                due = await self.next_due()
            except Exception:  # a bug or a database outage must not end escalation for good
                log.exception("escalation pass failed; retrying")
                due = None
                await asyncio.sleep(IDLE_CHECK_S)
            wait = IDLE_CHECK_S
            if due is not None:
                wait = max(0.0, min(wait, (due - self.clock.now()).total_seconds()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

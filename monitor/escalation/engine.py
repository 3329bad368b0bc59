"""The escalation engine: whom an open alert asks next, on which channels, and when.

An alert's position (``tier``, ``round``) and its next due time (``next_escalation_at``)
live in the alert row. Each step runs inside the caller's transaction, queues the step's
notification rows and moves the position together, so a monitor killed at any line resumes
on restart exactly where the database says, and nobody is asked twice for the same step
(the rows' unique ``dedupe_key``; docs/architecture.md, invariants 2 and 3).

    tier 0 ─timeout─► tier 1 ─timeout─► ... last tier ─timeout─► (repeat rounds) ─► UNANSWERED

Whom a tier asks is the step's audience (``monitor.escalation.audience``): only people who
can be asked at that moment. A tier with nobody to ask is skipped at once, and the skip is
written to the log with who was left out and why. A tier ordered "nearest" asks one person
at a time, nearest to the alert's position first, each for the tier's
``per_person_timeout_s``; its ``ack_timeout_s`` then runs from when its last person was
asked. Each person is asked on every channel the tier names (``channels``) that the service
has, and a tier with ``call_after_s`` also calls them that much later unless the alert was
taken or they declined first (a row born waiting: no timer of the engine's own); nobody is
called against their ``voice``/``voice_hours`` (``monitor.oncall.calls``). A call that did not
reach a person (busy, not answered, voicemail) counts for that person, whatever their SMS did:
the call is what wakes them. The engine decides whom, when and about what, and
``monitor.notify`` carries it.
Policies that inform the family tell them when the alert is raised (here) and when it ends
(``monitor.actions``). Due timers are run by ``monitor.escalation.timer``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.alerts.lifecycle import ESCALATING_KINDS, URGENT_KINDS, AlertState
from monitor.alerts.log import log_entry
from monitor.core.effects import Effects
from monitor.core.metrics import Metrics
from monitor.directory.model import DEFAULT_POLICY_ID, Policy, Tier
from monitor.escalation.audience import Audience, explain_skip, tier_audience
from monitor.escalation.policy import next_position
from monitor.escalation.step_reads import StepReads
from monitor.notify import texts
from monitor.notify.requests import (
    SMS,
    UNREACHED,
    VOICE,
    NotificationRequest,
    Purpose,
    channel_noun,
    queue_many,
)
from monitor.notify.responder_links import links_for
from monitor.notify.texts import MessageStyle
from monitor.oncall.calls import takes_calls
from monitor.oncall.fairness import Load
from monitor.oncall.inform import inform_raised
from monitor.oncall.people import Recipient
from monitor.store.models import Alert, AlertEvent, Notification, SmsOptOut, Volunteer

log = logging.getLogger("callwatch.escalation")

#: Duty staff hear that an alert went unanswered by these channels (those the service has).
STAFF_CHANNELS: tuple[str, ...] = (SMS,)


class Escalation:
    """The escalation engine: starts and advances alerts' escalations, inside the caller's transaction."""

    def __init__(
        self,
        style: MessageStyle,
        metrics: Metrics,
        *,
        channels: Collection[str] = (SMS,),
        staff_channels: Sequence[str] = STAFF_CHANNELS,
    ) -> None:
        self.style = style
        self.metrics = metrics
        #: the channels the service reaches people on (``monitor.notify.channels``)
        self.channels = frozenset(channels)
        #: how duty staff hear that an alert went unanswered (``[voice] duty_calls`` adds calls)
        self.staff_channels = tuple(staff_channels)

    # -- steps, each inside the caller's transaction --------------------------------------

    async def start(
        self, session: AsyncSession, alert: Alert, now: datetime, effects: Effects, opening: AlertEvent
    ) -> None:
        """Ask the first tier about a new, not yet flushed ``alert``; ``opening`` is its first log entry.

        The alert is inserted once, with its escalation timer already set, when its number is
        first needed: one INSERT instead of an INSERT and an UPDATE on the path of every press.
        """
        reads = self.reads(session, now)
        if alert.kind not in ESCALATING_KINDS:
            # Device-health alerts wake nobody tier by tier: staff get them batched (monitor.watch).
            await self._record(reads, alert, opening)
            return
        with session.no_autoflush:
            policy = await self.policy_for(reads, alert)
        if policy is None:
            await self._record(reads, alert, opening)
            await self._flag_unanswered(reads, alert, effects, "no escalation policy applies")
            return
        await self._ask_from(reads, alert, policy, (0, 0), effects, opening)
        await inform_raised(session, effects, alert, policy.inform, self.style, now)

    def reads(self, session: AsyncSession, now: datetime) -> StepReads:
        """A fresh memory of who can be asked, for steps inside this one transaction only."""
        return StepReads(session, now, self.style.timezone)

    async def step(
        self,
        session: AsyncSession,
        alert: Alert,
        now: datetime,
        effects: Effects,
        reason: str,
        reads: StepReads | None = None,
    ) -> None:
        """Go on with an open alert now (a timeout, a decline, an SMS that cannot arrive): in a
        tier that asks one person at a time, ask the next nearest; otherwise the next tier.
        ``reads``: the transaction's, when it takes several steps; else one is made for this step."""
        if alert.state != AlertState.OPEN or alert.unanswered:
            return
        reads = reads or self.reads(session, now)
        policy = await self.policy_for(reads, alert)
        tier = policy.tiers[alert.tier] if policy is not None and alert.tier < len(policy.tiers) else None
        if tier is not None and tier.one_at_a_time:
            audience = await self._audience(reads, alert, tier, fresh_round=False)
            if audience.to_ask and audience.point is not None:
                log_entry(
                    session,
                    alert.id,
                    at=now,
                    kind="next_nearest",
                    detail=f"{reason}; asking the next nearest of tier {alert.tier + 1}",
                )
                await self._ask(reads, alert, tier, audience, effects)
                return
        await self.advance(session, alert, now, effects, reason, reads)

    async def advance(
        self,
        session: AsyncSession,
        alert: Alert,
        now: datetime,
        effects: Effects,
        reason: str,
        reads: StepReads | None = None,
    ) -> None:
        """Move an open alert to its next tier now (timeout, decline, or nobody reachable)."""
        if alert.state != AlertState.OPEN or alert.unanswered:
            return
        reads = reads or self.reads(session, now)
        escalated = AlertEvent(alert_id=alert.id, at=now, kind="escalated", actor="system", detail=reason)
        policy = await self.policy_for(reads, alert)
        following = next_position(policy, alert.tier, alert.round) if policy else None
        if policy is None or following is None:
            await self._record(reads, alert, escalated)
            await self._flag_unanswered(reads, alert, effects, "every tier was asked and nobody took it")
            return
        await self._ask_from(reads, alert, policy, following, effects, escalated)

    async def ask_named(
        self,
        session: AsyncSession,
        alert: Alert,
        volunteer: Volunteer,
        now: datetime,
        effects: Effects,
        *,
        occasion: str,
    ) -> None:
        """Ask ``volunteer`` about the open ``alert`` now, on the current tier's channels (duty staff
        gave it to them); if nobody takes it within that tier's timeout, escalation goes on from there.
        ``occasion`` makes the ask unique (they may have been asked in this tier already)."""
        reads = self.reads(session, now)
        policy = await self.policy_for(reads, alert)
        tier = policy.tiers[alert.tier] if policy is not None and alert.tier < len(policy.tiers) else None
        facts, _ = await reads.facts(alert)
        recipient = Recipient(volunteer.phone, volunteer.name, volunteer.language, volunteer=volunteer)
        links = await self._links(reads, alert, [recipient])
        message = texts.ask(
            facts, recipient.language, self.style, round_number=alert.round, link=links.get(recipient.phone)
        )
        channels = self._channels(reads, alert, tier.channels if tier is not None else STAFF_CHANNELS)
        if tier is not None and not alert.unanswered:
            alert.next_escalation_at = now + timedelta(seconds=tier.ack_timeout_s)
            effects.timer_set(alert.next_escalation_at)
        await self._queue_requests(
            reads, alert, [recipient], [message], Purpose.ALERT, channels, effects, occasion=occasion
        )
        effects.changed_alert_ids.add(alert.id)

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
            await self.step(session, alert, now, effects, f"nobody asked in tier {alert.tier + 1} could be reached")
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
        reads = self.reads(session, now)
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
                    reads,
                )
                effects.changed_alert_ids.add(alert.id)

    async def _reachable_askees(self, session: AsyncSession, alert: Alert) -> int:
        """How many asks at the alert's current tier and round may still reach their person and be
        answered: not failed, not to a phone that opted out, not to a phone a call failed to reach."""
        asked_now = (
            (Notification.alert_id == alert.id)
            & (Notification.purpose == Purpose.ALERT)
            & (Notification.tier == alert.tier)
            & (Notification.round == alert.round)
        )
        call_missed = select(Notification.phone).where(
            asked_now, Notification.channel == VOICE, Notification.status.in_(UNREACHED)
        )
        reachable = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(
                asked_now,
                Notification.status.not_in(UNREACHED),
                Notification.phone.not_in(select(SmsOptOut.phone)),
                Notification.phone.not_in(call_missed),
            )
        )
        return int(reachable or 0)

    async def _ask_from(
        self,
        reads: StepReads,
        alert: Alert,
        policy: Policy,
        position: tuple[int, int] | None,
        effects: Effects,
        opening: AlertEvent,
    ) -> None:
        """Ask the tier at ``position``, skipping forward at once over tiers with nobody to ask."""
        session, now = reads.session, reads.now
        while position is not None:
            tier_index, round_number = position
            tier = policy.tiers[tier_index]
            alert.tier, alert.round = tier_index, round_number
            with session.no_autoflush:
                # A round starts with its first tier: nobody was asked in it yet.
                audience = await self._audience(reads, alert, tier, fresh_round=tier_index == 0)
            if audience.to_ask:
                await self._ask(reads, alert, tier, audience, effects, opening=opening)
                return
            await self._record(reads, alert, opening)
            log_entry(
                session,
                alert.id,
                at=now,
                kind="tier_skipped",
                detail=explain_skip(tier_index, round_number, audience, now, self.style.timezone),
            )
            position = next_position(policy, tier_index, round_number)
        await self._flag_unanswered(reads, alert, effects, "every tier was asked and nobody took it")

    async def _audience(self, reads: StepReads, alert: Alert, tier: Tier, *, fresh_round: bool) -> Audience:
        """Whom ``tier`` means for ``alert`` now, leaving out everyone asked already in this round."""
        asked = set() if fresh_round else await reads.asked_phones(alert.id, alert.round)
        return await tier_audience(reads, tier.notify, alert, already_asked=asked, nearest_first=tier.one_at_a_time)

    async def _ask(
        self,
        reads: StepReads,
        alert: Alert,
        tier: Tier,
        audience: Audience,
        effects: Effects,
        *,
        opening: AlertEvent | None = None,
    ) -> None:
        """Ask ``audience.to_ask`` (all of them, or in a nearest-first tier the nearest) and set the
        timer; ``opening``: the log entry that comes first (a new alert's "raised")."""
        session, now = reads.session, reads.now
        chosen, wait = audience.to_ask, tier.ack_timeout_s
        if tier.one_at_a_time and audience.point is not None:
            chosen = chosen[:1]
            if len(audience.to_ask) > 1:
                wait = tier.per_person_timeout_s  # more to ask after this one
        # Set before a new alert's first flush, so it is inserted with its timer (no UPDATE after).
        alert.next_escalation_at = now + timedelta(seconds=wait)
        if opening is not None:
            await self._record(reads, alert, opening)
        if tier.one_at_a_time and audience.point is None:
            log_entry(
                session,
                alert.id,
                at=now,
                kind="note",
                detail=f"no position known for this alert (device or resident's home): "
                f"tier {alert.tier + 1} asked together, not nearest first",
            )
        facts, _ = await reads.facts(alert)
        links = await self._links(reads, alert, chosen)
        messages = [
            texts.ask(
                facts,
                recipient.language,
                self.style,
                round_number=alert.round,
                distance_m=recipient.distance_m,
                link=links.get(recipient.phone),
            )
            for recipient in chosen
        ]
        channels = self._channels(reads, alert, tier.channels)
        later = {VOICE: tier.call_after_s} if tier.call_after_s is not None and VOICE in self.channels else {}
        await self._queue_requests(
            reads, alert, chosen, messages, Purpose.ALERT, (*channels, *later), effects, after_s=later
        )
        effects.timer_set(alert.next_escalation_at)
        effects.changed_alert_ids.add(alert.id)

    async def _links(self, reads: StepReads, alert: Alert, recipients: Sequence[Recipient]) -> dict[str, str]:
        """Each recipient's responder-page link (phone -> URL), when the service sends links."""
        if self.style.link_base is None:
            return {}
        with reads.session.no_autoflush:
            tokens = await links_for(
                reads.session, alert.id, [(person.phone, person.volunteer_id) for person in recipients], reads.now
            )
        return {phone: f"{self.style.link_base}{token}" for phone, token in tokens.items()}

    async def _record(self, reads: StepReads, alert: Alert, entry: AlertEvent) -> None:
        """Give a new alert its id and put ``entry`` in its log (once)."""
        session = reads.session
        if alert.id is None:
            await session.flush()
            reads.new_alert(alert.id)
        if entry.alert_id is None:
            entry.alert_id = alert.id
        if entry not in session:
            session.add(entry)

    async def _flag_unanswered(self, reads: StepReads, alert: Alert, effects: Effects, reason: str) -> None:
        session, now = reads.session, reads.now
        alert.unanswered = True
        alert.next_escalation_at = None
        effects.changed_alert_ids.add(alert.id)
        log_entry(session, alert.id, at=now, kind="unanswered", detail=reason)
        self.metrics.alerts_unanswered.inc()
        duty, fallback = await reads.staff_on_call(alert)
        if fallback and duty:
            log_entry(
                session,
                alert.id,
                at=now,
                kind="note",
                detail="no duty staff phone is on call now: telling every staff phone that has not opted out",
            )
        if not duty:
            log_entry(
                session,
                alert.id,
                at=now,
                kind="note",
                detail="no duty staff phone (role staff) in the directory to tell",
            )
            return
        facts, _ = await reads.facts(alert)
        recipients = [Recipient(person.phone, person.name, person.language, volunteer=person) for person in duty]
        messages = [texts.unanswered(facts, recipient.language, self.style) for recipient in recipients]
        channels = self._channels(reads, alert, self.staff_channels)
        await self._queue_requests(reads, alert, recipients, messages, Purpose.UNANSWERED, channels, effects)

    async def tell_duty(
        self,
        reads: StepReads,
        alert: Alert,
        effects: Effects,
        message: Callable[[str], texts.Message],
        *,
        occasion: str,
    ) -> None:
        """Tell duty staff on call (else every reachable staff phone) about ``alert`` at once, each in
        their language (``message(language)``); ``occasion`` makes each one's notice unique
        ("handed_back:<when>"), so a step that runs twice tells nobody twice."""
        duty, _ = await reads.staff_on_call(alert)
        if not duty:
            log_entry(
                reads.session,
                alert.id,
                at=reads.now,
                kind="note",
                detail="no duty staff phone (role staff) in the directory to tell",
            )
            return
        recipients = [Recipient(person.phone, person.name, person.language, volunteer=person) for person in duty]
        channels = self._channels(reads, alert, STAFF_CHANNELS)
        messages = [message(recipient.language) for recipient in recipients]
        await self._queue_requests(
            reads, alert, recipients, messages, Purpose.DUTY, channels, effects, occasion=occasion
        )

    def _channels(self, reads: StepReads, alert: Alert, wanted: Sequence[str]) -> tuple[str, ...]:
        """The channels of ``wanted`` this service has; if it has none of them, SMS (or its first
        channel) instead, noted in the alert's log: nobody goes unasked for want of a channel."""
        usable = tuple(channel for channel in wanted if channel in self.channels)
        if usable:
            return usable
        instead = SMS if SMS in self.channels else min(self.channels)
        log_entry(
            reads.session,
            alert.id,
            at=reads.now,
            kind="note",
            detail=f"{', '.join(wanted)} is not configured on this service: asked by {channel_noun(instead)} instead",
        )
        return (instead,)

    async def _queue_requests(
        self,
        reads: StepReads,
        alert: Alert,
        recipients: Sequence[Recipient],
        messages: Sequence[texts.Message],
        purpose: Purpose,
        channels: Sequence[str],
        effects: Effects,
        *,
        after_s: Mapping[str, int] | None = None,
        occasion: str | None = None,
    ) -> None:
        """Ask each of ``recipients`` with their message on every one of ``channels`` they may be
        reached on now; ``after_s``: channels whose ask waits that long (``call_after_s``);
        ``occasion``: what makes these rows unique instead of the alert's tier and round."""
        session, now = reads.session, reads.now
        # Each request's log entry states the volunteer's recent load, so duty staff can spread it.
        with session.no_autoflush:
            load = await reads.recent_load(
                alert.id, [recipient.volunteer_id for recipient in recipients if recipient.volunteer_id]
            )
            opted_out = await reads.opted_out(recipient.phone for recipient in recipients)
        # Log entries wait for the commit, where they go in together as one INSERT.
        asks = [
            (
                recipient,
                NotificationRequest(
                    phone=recipient.phone,
                    message=message,
                    purpose=purpose,
                    alert_id=alert.id,
                    volunteer_id=recipient.volunteer_id,
                    tier=alert.tier,
                    round_number=alert.round,
                    channel=channel,
                    after_s=(after_s or {}).get(channel, 0),
                    # At the provider's gate (calls go one a second), SOS and falls first.
                    rank=0 if alert.kind in URGENT_KINDS else 1,
                    key=f"{alert.id}:{purpose}:{occasion}:{recipient.phone}:{channel}" if occasion else None,
                ),
            )
            for recipient, message in zip(recipients, messages, strict=True)
            for channel in channels
            if channel != VOICE or takes_calls(recipient.volunteer, now, self.style.timezone)
        ]
        with session.no_autoflush:
            queued = await queue_many(session, effects, [request for _, request in asks], now, opted_out=opted_out)
        where = "duty staff" if purpose in (Purpose.UNANSWERED, Purpose.DUTY) else f"tier {alert.tier + 1}"
        for (recipient, request), notification_id in zip(asks, queued, strict=True):
            if notification_id is None:
                continue
            reads.queued(alert.id, recipient.phone, recipient.volunteer_id, purpose, alert.round)
            detail = (
                f"{channel_noun(request.channel)} to {recipient.name} ({recipient.phone}), {where}, "
                f"round {alert.round + 1}"
            )
            if request.after_s:
                detail += f", unless answered within {request.after_s:g} s"
            if recipient.family is not None:
                detail += ", family"
            if recipient.distance_m is not None:
                detail += f", {round(recipient.distance_m)} m from the resident"
            if recipient.volunteer_id is not None:
                detail += f"; {load.get(recipient.volunteer_id, Load()).text()}"
            log_entry(session, alert.id, at=now, kind="notified", detail=detail, notification_id=notification_id)

    async def policy_for(self, reads: StepReads, alert: Alert) -> Policy | None:
        """The alert's policy, else the default one (the alert's was removed since it was raised)."""
        for policy_id in (alert.policy_id, DEFAULT_POLICY_ID):
            if policy_id is not None and (policy := await reads.policy(policy_id)) is not None:
                return policy
        return None

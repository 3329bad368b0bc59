"""Volunteers' SMS replies: which alert a reply is about and what it does to it.

Every reply is stored. A reply changes an alert only when it comes from a volunteer who
was asked about that alert; a reply without a number means the most recent alert this
phone was asked about. Each accepted reply gets a short confirmation SMS, so a volunteer
never wonders whether the reply arrived. Replies from unknown numbers change nothing and
get no answer (an answer would tell a stranger the number is live).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.alerts.actions import AlertActions, Taker
from monitor.alerts.facts import load_facts
from monitor.alerts.lifecycle import AlertState, Outcome
from monitor.directory import normalize_phone
from monitor.effects import Effects
from monitor.notifications import ASKING, Purpose, queue_sms
from monitor.sms import messages
from monitor.sms.reply_grammar import Intent, Reply, parse_reply
from monitor.store.models import Alert, AlertEvent, InboundSms, Notification, Volunteer
from monitor.store.statements import insert_unless_exists

log = logging.getLogger("callwatch.replies")

#: At most one "did not understand" answer per phone in this window (auto-responders loop).
HELP_QUIET = timedelta(minutes=10)


class ReplyOutcome(StrEnum):
    REPLAY = "replay"  # the same provider message id again: already handled
    UNKNOWN_NUMBER = "unknown_number"
    UNPARSED = "unparsed"
    NO_ALERT = "no_alert"  # nothing this phone was asked about matches
    ACKNOWLEDGED = "acknowledged"
    ALREADY_TAKEN = "already_taken"
    CLOSED = "closed"
    RESOLVED = "resolved"
    DECLINED = "declined"


@dataclass(frozen=True, slots=True)
class InboundReply:
    provider_id: str
    from_phone: str
    body: str


class ReplyHandler:
    def __init__(self, actions: AlertActions) -> None:
        self.actions = actions

    async def handle(
        self, session: AsyncSession, effects: Effects, reply_sms: InboundReply, now: datetime
    ) -> ReplyOutcome:
        inbound_id = await insert_unless_exists(
            session,
            InboundSms,
            {
                "provider_id": reply_sms.provider_id,
                "received_at": now,
                "from_phone": reply_sms.from_phone[:32],
                "body": reply_sms.body[:1600],
                "outcome": "received",
                "detail": "",
            },
            ["provider_id"],
        )
        if inbound_id is None:
            return ReplyOutcome.REPLAY
        inbound = await session.get(InboundSms, inbound_id)
        assert inbound is not None
        volunteer = await self._volunteer(session, reply_sms.from_phone)
        if volunteer is None:
            log.warning("reply from an unknown number %s ignored", reply_sms.from_phone[:32])
            return self._finish(inbound, ReplyOutcome.UNKNOWN_NUMBER)
        inbound.volunteer_id = volunteer.id
        reply = parse_reply(reply_sms.body)
        if reply is None:
            await self._help(session, effects, volunteer, now, reply_sms.provider_id)
            return self._finish(inbound, ReplyOutcome.UNPARSED)
        alert = await self._target(session, volunteer, reply)
        if alert is None:
            await self._answer(
                session, effects, volunteer, messages.nothing_to_answer_text(volunteer.language), now, reply_sms
            )
            return self._finish(inbound, ReplyOutcome.NO_ALERT, f"{reply.intent} {reply.alert_code or ''}")
        inbound.alert_id = alert.id
        outcome = await self._apply(session, effects, volunteer, reply, alert, now, reply_sms)
        session.add(
            AlertEvent(
                alert_id=alert.id,
                at=now,
                kind="reply",
                actor=f"volunteer:{volunteer.id}",
                detail=f"{volunteer.name} replied {reply_sms.body[:160]!r}: {outcome.value}",
            )
        )
        effects.changed_alert_ids.add(alert.id)
        return self._finish(inbound, outcome)

    async def _apply(
        self,
        session: AsyncSession,
        effects: Effects,
        volunteer: Volunteer,
        reply: Reply,
        alert: Alert,
        now: datetime,
        reply_sms: InboundReply,
    ) -> ReplyOutcome:
        facts, language = await load_facts(session, alert)
        reply_key = f"reply:{reply_sms.provider_id}"
        state = AlertState(alert.state)
        if reply.intent is Intent.ACK:
            if state is AlertState.OPEN:
                await self.actions.acknowledge(
                    session,
                    effects,
                    alert,
                    taker=Taker.volunteer_taker(volunteer),
                    now=now,
                    via="replied by SMS",
                    confirmation_key=f"{reply_key}:confirmation",
                )
                return ReplyOutcome.ACKNOWLEDGED
            if state is AlertState.ACKNOWLEDGED and alert.acknowledged_by != volunteer.id:
                taker = await session.get(Volunteer, alert.acknowledged_by) if alert.acknowledged_by else None
                text = messages.already_taken_text(facts, taker.name if taker else "?", language)
                await self._answer(session, effects, volunteer, text, now, reply_sms, alert)
                return ReplyOutcome.ALREADY_TAKEN
            if state is AlertState.ACKNOWLEDGED:
                await self._answer(
                    session, effects, volunteer, messages.ack_confirmation_text(facts, language), now, reply_sms, alert
                )
                return ReplyOutcome.ACKNOWLEDGED
            await self._answer(
                session, effects, volunteer, messages.closed_text(facts, state, language), now, reply_sms, alert
            )
            return ReplyOutcome.CLOSED
        if reply.intent is Intent.DONE:
            if state is AlertState.OPEN:
                await self.actions.acknowledge(
                    session,
                    effects,
                    alert,
                    taker=Taker.volunteer_taker(volunteer),
                    now=now,
                    via="replied DONE by SMS",
                    confirmation_key=f"{reply_key}:confirmation",
                )
                state = AlertState.ACKNOWLEDGED
            if state is AlertState.ACKNOWLEDGED:
                await self.actions.resolve(
                    session,
                    effects,
                    alert,
                    actor=f"volunteer:{volunteer.id}",
                    by=volunteer.id,
                    now=now,
                    outcome=Outcome.VOLUNTEER_VISITED,
                    detail=f"{volunteer.name} replied DONE by SMS",
                )
                await self._answer(
                    session,
                    effects,
                    volunteer,
                    messages.resolved_confirmation_text(facts, language),
                    now,
                    reply_sms,
                    alert,
                )
                return ReplyOutcome.RESOLVED
            await self._answer(
                session, effects, volunteer, messages.closed_text(facts, state, language), now, reply_sms, alert
            )
            return ReplyOutcome.CLOSED
        if state is AlertState.OPEN:
            await self.actions.decline(session, effects, alert, volunteer=volunteer, now=now)
            await self._answer(
                session, effects, volunteer, messages.decline_confirmation_text(facts, language), now, reply_sms, alert
            )
            return ReplyOutcome.DECLINED
        await self._answer(
            session, effects, volunteer, messages.closed_text(facts, state, language), now, reply_sms, alert
        )
        return ReplyOutcome.CLOSED

    async def _target(self, session: AsyncSession, volunteer: Volunteer, reply: Reply) -> Alert | None:
        """The alert a reply is about: the one it names, or the most fitting recent one."""
        asked = (
            select(Notification.alert_id)
            .where(Notification.volunteer_id == volunteer.id, Notification.purpose.in_(ASKING))
            .distinct()
        )
        if reply.alert_code is not None:
            return await session.scalar(
                select(Alert).where(Alert.id == reply.alert_code, Alert.id.in_(asked)).with_for_update()
            )
        preferred = {
            Intent.ACK: [AlertState.OPEN],
            Intent.DECLINE: [AlertState.OPEN],
            Intent.DONE: [AlertState.ACKNOWLEDGED, AlertState.OPEN],
        }[reply.intent]
        for state in preferred:
            query = select(Alert).where(Alert.id.in_(asked), Alert.state == state)
            if reply.intent is Intent.DONE and state is AlertState.ACKNOWLEDGED:
                query = query.where(Alert.acknowledged_by == volunteer.id)
            found = await session.scalar(query.order_by(Alert.id.desc()).limit(1).with_for_update())
            if found is not None:
                return found
        return await session.scalar(select(Alert).where(Alert.id.in_(asked)).order_by(Alert.id.desc()).limit(1))

    async def _volunteer(self, session: AsyncSession, phone: str) -> Volunteer | None:
        try:
            normalized = normalize_phone(phone)
        except ValueError:
            return None
        return await session.scalar(select(Volunteer).where(Volunteer.phone == normalized, Volunteer.active.is_(True)))

    async def _answer(
        self,
        session: AsyncSession,
        effects: Effects,
        volunteer: Volunteer,
        text: str,
        now: datetime,
        reply_sms: InboundReply,
        alert: Alert | None = None,
    ) -> None:
        await queue_sms(
            session,
            effects,
            phone=volunteer.phone,
            body=text,
            purpose=Purpose.CONFIRMATION,
            now=now,
            alert_id=alert.id if alert else None,
            volunteer_id=volunteer.id,
            key=f"reply:{reply_sms.provider_id}:answer",
        )

    async def _help(
        self, session: AsyncSession, effects: Effects, volunteer: Volunteer, now: datetime, provider_id: str
    ) -> None:
        recent_help = await session.scalar(
            select(Notification.id).where(
                Notification.phone == volunteer.phone,
                Notification.purpose == Purpose.HELP,
                Notification.created_at >= now - HELP_QUIET,
            )
        )
        if recent_help is not None:
            return
        await queue_sms(
            session,
            effects,
            phone=volunteer.phone,
            body=messages.help_text(volunteer.language),
            purpose=Purpose.HELP,
            now=now,
            volunteer_id=volunteer.id,
            key=f"reply:{provider_id}:help",
        )

    def _finish(self, inbound: InboundSms, outcome: ReplyOutcome, detail: str = "") -> ReplyOutcome:
        inbound.outcome = outcome.value
        inbound.detail = detail
        return outcome

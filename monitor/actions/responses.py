"""What a person who was asked about an alert says about it, whichever way they say it (an SMS
reply, the responder page): take it, on the way, here, done, cannot go or hand it back.

Only whoever took an alert moves it on; a word the alert's state has no use for changes nothing
and is answered with the state. The answer's text is returned for the caller to send (an SMS
reply is answered by SMS; the responder page shows the alert as it now stands).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.actions.alert_actions import AlertActions, Taker
from monitor.actions.reply_grammar import Intent, Reply
from monitor.alerts.lifecycle import TAKEN, AlertState, Outcome
from monitor.core.effects import Effects
from monitor.notify import texts
from monitor.notify.facts import load_facts
from monitor.oncall.people import holder_of
from monitor.store.models import Alert

#: Words that take an open alert (and may say more at once: on my way, here, done).
TAKING: frozenset[Intent] = frozenset({Intent.ACK, Intent.DONE, Intent.GO, Intent.HERE})


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
    ON_THE_WAY = "on_the_way"  # GO / OMW from whoever took it
    ON_SITE = "on_site"  # HERE from whoever took it
    HANDED_BACK = "handed_back"  # NO from whoever took it
    DOES_NOT_FIT = "does_not_fit"  # a reply the alert's state has no use for: answered with the state
    AVAILABILITY = "availability"  # OFF, ON, PAUSE or STATUS, answered
    OPTED_OUT = "opted_out"  # STOP
    OPTED_IN = "opted_in"  # START after a STOP


class Responses:
    def __init__(self, actions: AlertActions) -> None:
        self.actions = actions

    async def respond(
        self,
        session: AsyncSession,
        effects: Effects,
        taker: Taker,
        reply: Reply,
        alert: Alert,
        now: datetime,
        *,
        said: str,
        key: str,
        outcome: Outcome = Outcome.VOLUNTEER_VISITED,
    ) -> tuple[ReplyOutcome, texts.Message | None]:
        """Carry out what ``taker`` said about ``alert`` (``said``: "by SMS", "on the responder page";
        ``key``: what makes its confirmation unique; ``outcome``: for DONE); what became of it and
        the text to answer with (None: already answered)."""
        facts, resident_language = await load_facts(session, alert)
        language = taker.language or resident_language
        state = AlertState(alert.state)
        if state is AlertState.OPEN and reply.intent is Intent.DECLINE:
            await self.actions.decline(session, effects, alert, taker=taker, now=now)
            return ReplyOutcome.DECLINED, texts.decline_confirmation(facts, language)
        if state is AlertState.OPEN and reply.intent in TAKING:
            # Taking it, or (GO, HERE, DONE) taking it and saying more at once: a late HERE after the
            # alert was asked again still counts.
            await self.actions.acknowledge(
                session,
                effects,
                alert,
                taker=taker,
                now=now,
                via=f"took it {said}" if reply.intent is Intent.ACK else f"said {reply.intent.name} {said}",
                confirmation_key=f"{key}:confirmation",
            )
            if reply.intent is Intent.ACK:
                return ReplyOutcome.ACKNOWLEDGED, None  # taking it sends its own confirmation
            state = AlertState.ACKNOWLEDGED
        if state not in TAKEN:
            return ReplyOutcome.CLOSED, texts.closed(facts, state, language)
        if alert.acknowledged_by != taker.by:
            # Only whoever took it moves it on: they are the one on the way.
            holder = await holder_of(session, alert.acknowledged_by)
            return ReplyOutcome.ALREADY_TAKEN, texts.already_taken(facts, holder.name if holder else "?", language)
        return await self._from_holder(session, effects, taker, reply, alert, now, (facts, language), said, outcome)

    async def _from_holder(
        self,
        session: AsyncSession,
        effects: Effects,
        taker: Taker,
        reply: Reply,
        alert: Alert,
        now: datetime,
        told: tuple[texts.AlertFacts, str],
        said: str,
        outcome: Outcome,
    ) -> tuple[ReplyOutcome, texts.Message]:
        """A reply from whoever holds ``alert``: on the way, there, done, or handing it back."""
        facts, language = told
        state = AlertState(alert.state)
        if reply.intent is Intent.ACK:
            return ReplyOutcome.ACKNOWLEDGED, texts.ack_confirmation(facts, language)
        if reply.intent is Intent.DONE:
            await self.actions.resolve(
                session,
                effects,
                alert,
                actor=taker.actor,
                by=taker.by,
                now=now,
                outcome=outcome,
                detail=f"{taker.name} said DONE {said}",
            )
            return ReplyOutcome.RESOLVED, texts.resolved_confirmation(facts, language)
        if reply.intent is Intent.GO and state is not AlertState.ON_SITE:
            await self.actions.set_off(
                session, effects, alert, taker=taker, now=now, minutes=reply.minutes, via=f"said {said}"
            )
            eta = self.actions.escalation.style.local_time(alert.eta) if alert.eta is not None else ""
            return ReplyOutcome.ON_THE_WAY, texts.on_the_way(facts, eta, language)
        if reply.intent is Intent.HERE and state is not AlertState.ON_SITE:
            await self.actions.arrive(session, effects, alert, taker=taker, now=now, via=f"said {said}")
            return ReplyOutcome.ON_SITE, texts.on_site(facts, language)
        if reply.intent is Intent.HERE:
            return ReplyOutcome.ON_SITE, texts.on_site(facts, language)  # already known: confirmed again
        if reply.intent is Intent.DECLINE and state is not AlertState.ON_SITE:
            await self.actions.hand_back(session, effects, alert, taker=taker, now=now, reason=reply.reason)
            return ReplyOutcome.HANDED_BACK, texts.handed_back_confirmation(facts, language)
        # on my way, or I cannot go, while on site
        return ReplyOutcome.DOES_NOT_FIT, texts.state_hint(facts, state, taker.name, "on_site", language)

"""A call's turns: what it says when answered, and what a key pressed on it does.

The call asks about the alert of its notification (``monitor.notify.voice``). Key 1 takes the
alert and key 2 cannot go, as the replies ACK and NO do: they go through the same door as an
SMS reply (``monitor.actions.replies``), under the call's id, so one call decides once and a
replayed request changes nothing. Key 9 (or any other) says the message again. A call answered,
or a key pressed, after the alert was taken says who took it; after it ended, that it ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.actions.replies import InboundReply, ReplyHandler
from monitor.actions.responses import ReplyOutcome
from monitor.alerts.lifecycle import AlertState
from monitor.core.effects import Effects
from monitor.notify import texts
from monitor.notify.facts import load_facts
from monitor.notify.requests import VOICE, Purpose
from monitor.notify.texts import AlertFacts, Message, MessageStyle
from monitor.oncall.people import holder_of
from monitor.store.models import Alert, FamilyContact, Notification, Volunteer

#: key -> the reply it stands for
KEY_REPLIES: dict[str, str] = {"1": "ACK", "2": "NO"}
#: how Twilio's call ids begin (its message ids begin "SM" or "MM")
_CALL_SID_PREFIX = "CA"


def is_call_key(inbound_provider_id: str) -> bool:
    """Whether a stored reply (``InboundSms``) is a key pressed on a call: stored under the call's id."""
    return inbound_provider_id.startswith(_CALL_SID_PREFIX)


@dataclass(frozen=True, slots=True)
class CallTurn:
    """What the call does next: say ``message`` in ``language`` and gather a key (``ask``), or say it
    and hang up; no message: hang up at once."""

    message: Message | None
    language: str = "en"
    ask: bool = False


HANG_UP = CallTurn(None)


class CallAnswers:
    def __init__(self, replies: ReplyHandler) -> None:
        self.replies = replies

    @property
    def style(self) -> MessageStyle:
        return self.replies.actions.escalation.style

    async def answered(self, session: AsyncSession, notification_id: int) -> CallTurn:
        """The call was answered by a person: ask about the alert while it is open, else say how it
        stands; a call about no alert (the watchdog's alarm) says its message."""
        notice = await self._notice(session, notification_id)
        if notice is not None:
            return notice
        found = await self._call(session, notification_id)
        if found is None:
            return HANG_UP
        notification, alert = found
        facts, _ = await load_facts(session, alert)
        language = await _listener_language(session, notification, alert)
        if alert.state == AlertState.OPEN:
            unanswered = notification.purpose == Purpose.UNANSWERED
            return CallTurn(texts.call_ask(facts, language, self.style, unanswered=unanswered), language, ask=True)
        return CallTurn(await self._standing(session, notification, alert, facts, language), language)

    async def pressed(
        self, session: AsyncSession, effects: Effects, notification_id: int, call_sid: str, key: str, now: datetime
    ) -> tuple[CallTurn, ReplyOutcome | None]:
        """``key`` pressed on call ``call_sid``: what the call says next, and what became of the key
        (None: a key that only repeats the message)."""
        found = await self._call(session, notification_id)
        if found is None:
            return HANG_UP, None
        notification, alert = found
        reply = KEY_REPLIES.get(key)
        if reply is None:
            return await self.answered(session, notification_id), None
        outcome = await self.replies.handle(
            session,
            effects,
            InboundReply(call_sid, notification.phone, f"{reply} {alert.id}", key_press=f"pressed {key} on the call"),
            now,
        )
        facts, _ = await load_facts(session, alert)  # (the same row the reply changed, in this session)
        language = await _listener_language(session, notification, alert)
        if outcome is ReplyOutcome.DECLINED:
            return CallTurn(texts.decline_confirmation(facts, language), language), outcome
        return CallTurn(await self._standing(session, notification, alert, facts, language), language), outcome

    async def _notice(self, session: AsyncSession, notification_id: int) -> CallTurn | None:
        """What a call about no alert says (its message, then it hangs up); None for any other call."""
        notification = await session.get(Notification, notification_id)
        if notification is None or notification.channel != VOICE or notification.alert_id is not None:
            return None
        volunteer = await session.get(Volunteer, notification.volunteer_id) if notification.volunteer_id else None
        message = Message(notification.template or "", notification.body)
        return CallTurn(message, volunteer.language if volunteer is not None else "en")

    async def _call(self, session: AsyncSession, notification_id: int) -> tuple[Notification, Alert] | None:
        """The call's notification and its alert (None for anything else: nothing to say)."""
        notification = await session.get(Notification, notification_id)
        if notification is None or notification.channel != VOICE or notification.alert_id is None:
            return None
        alert = await session.get(Alert, notification.alert_id)
        return None if alert is None else (notification, alert)

    async def _standing(
        self, session: AsyncSession, notification: Notification, alert: Alert, facts: AlertFacts, language: str
    ) -> Message:
        """How the alert stands for the listener: theirs, taken by someone else (by whom), or ended."""
        if alert.state != AlertState.ACKNOWLEDGED:
            return texts.closed(facts, alert.state, language)
        holder = await holder_of(session, alert.acknowledged_by)
        if holder is not None and holder.phone == notification.phone:
            return texts.call_taken(facts, language)
        name = holder.name if holder is not None else (alert.acknowledged_by or "?").removeprefix("user:")
        return texts.already_taken(facts, name, language)


async def _listener_language(session: AsyncSession, notification: Notification, alert: Alert) -> str:
    """The called person's own language: the volunteer's, the family contact's, else the resident's."""
    if notification.volunteer_id is not None:
        volunteer = await session.get(Volunteer, notification.volunteer_id)
        if volunteer is not None:
            return volunteer.language
    contact = await session.scalar(
        select(FamilyContact.language).where(FamilyContact.phone == notification.phone).limit(1)
    )
    if contact is not None:
        return contact
    _, resident_language = await load_facts(session, alert)
    return resident_language

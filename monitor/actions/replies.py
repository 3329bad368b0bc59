"""SMS replies: which alert a reply is about and what it does to it, or what it says about the sender.

Every reply is stored. A reply changes an alert only when it comes from someone who was
asked about that alert (a volunteer, or a family contact a policy's tier asked); a reply
without a number means the most recent alert this phone was asked about. Each accepted
reply gets a short confirmation SMS, so nobody wonders whether the reply arrived.
Replies from unknown numbers change nothing and get no answer (an answer would tell a
stranger the number is live).

A volunteer also sets their availability by SMS (OFF, ON, PAUSE 2h, STATUS, and 休息,
上班, 暂停, 状态), each answered with where they stand and until when
(``monitor.oncall.availability``). STOP (and its synonyms, TD / 退订) from any known phone
opts that number out of every message, and START opts it back in; the carrier answers
those two itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.actions.alert_actions import AlertActions, Taker
from monitor.actions.reply_grammar import Intent, Reply, parse_reply
from monitor.actions.responses import ReplyOutcome, Responses
from monitor.alerts.lifecycle import TAKEN, AlertState
from monitor.alerts.log import log_entry
from monitor.core.effects import Effects
from monitor.directory.model import normalize_phone
from monitor.notify import texts
from monitor.notify.requests import ASKING, Purpose, queue_sms
from monitor.oncall import availability
from monitor.oncall.standing import standings, zone_of
from monitor.store.models import Alert, FamilyContact, InboundSms, Notification, Volunteer
from monitor.store.statements import insert_unless_exists

log = logging.getLogger("callwatch.replies")

#: At most one "did not understand" answer per phone in this window (auto-responders loop).
HELP_QUIET = timedelta(minutes=10)
#: Words about the sender's availability rather than about an alert.
AVAILABILITY: frozenset[Intent] = frozenset({Intent.OFF, Intent.ON, Intent.PAUSE, Intent.STATUS})
#: Words about an alert.
ABOUT_ALERTS: frozenset[Intent] = frozenset({Intent.ACK, Intent.DONE, Intent.DECLINE, Intent.GO, Intent.HERE})


@dataclass(frozen=True, slots=True)
class InboundReply:
    """An SMS reply, or a key pressed on a call (``monitor.actions.call_answers``) in the words of
    the reply it stands for ("ACK 17"): ``provider_id`` is then the call's id, so one call decides once."""

    provider_id: str
    from_phone: str
    body: str
    #: what the person did on a call, for the log ("pressed 1 on the call"); None for an SMS
    key_press: str | None = None


@dataclass(frozen=True, slots=True)
class Sender:
    """Who a reply is from: a volunteer, one or more residents' family contact (by phone), or both
    (a daughter who volunteers in another area)."""

    phone: str
    name: str
    language: str
    volunteer: Volunteer | None = None
    #: a family member may be the contact of several residents (both her parents)
    family: list[FamilyContact] = field(default_factory=list)

    @property
    def actor(self) -> str:
        return f"volunteer:{self.volunteer.id}" if self.volunteer else f"family:{self.family[0].id}"

    def taker_for(self, alert: Alert, *, asked_as_volunteer: bool) -> Taker:
        """Who takes ``alert`` when this sender does: the volunteer, unless only the resident's
        family was asked and the sender is one of them."""
        contact = next((c for c in self.family if c.resident_id == alert.resident_id), None)
        if self.volunteer is not None and (asked_as_volunteer or contact is None):
            return Taker.volunteer_taker(self.volunteer)
        return Taker.family_taker(contact or self.family[0])

    def took(self) -> ColumnElement[bool]:
        """Alerts this sender took."""
        takers = [f"family:{contact.id}" for contact in self.family]
        if self.volunteer is not None:
            takers.append(self.volunteer.id)
        return Alert.acknowledged_by.in_(takers)

    def asked(self) -> ColumnElement[bool]:
        """Asks that went to this sender: to the volunteer (whatever phone they had then) or to this phone."""
        if self.volunteer is not None:
            return or_(Notification.volunteer_id == self.volunteer.id, Notification.phone == self.phone)
        return Notification.phone == self.phone


class ReplyHandler:
    def __init__(self, actions: AlertActions) -> None:
        self.actions = actions
        self.responses = Responses(actions)

    @property
    def zone(self) -> ZoneInfo:
        """The service's time zone, for schedules without their own."""
        return self.actions.escalation.style.timezone

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
        sender = await self._sender(session, reply_sms.from_phone)
        if sender is None:
            log.warning("reply from an unknown number %s ignored", reply_sms.from_phone[:32])
            return self._finish(inbound, ReplyOutcome.UNKNOWN_NUMBER)
        inbound.volunteer_id = sender.volunteer.id if sender.volunteer else None
        reply = parse_reply(reply_sms.body)
        if reply is not None and reply.intent is Intent.STOP:
            cancelled = await availability.opt_out(session, sender.phone, now, inbound.id)
            await self.actions.escalation.on_opt_out(session, sender.phone, now, effects)
            return self._finish(inbound, ReplyOutcome.OPTED_OUT, f"{sender.actor}; {cancelled} queued SMS cancelled")
        if reply is not None and reply.intent is Intent.START and await availability.opt_in(session, sender.phone):
            return self._finish(inbound, ReplyOutcome.OPTED_IN, sender.actor)
        if reply is not None and reply.intent in AVAILABILITY and sender.volunteer is not None:
            await self._availability(session, effects, sender.volunteer, reply, now, reply_sms)
            return self._finish(inbound, ReplyOutcome.AVAILABILITY, reply.intent.value)
        if reply is None or reply.intent not in ABOUT_ALERTS:
            # (START from a phone that never opted out is most likely a "yes" to an alert: explain ACK.)
            await self._help(session, effects, sender, now, reply_sms.provider_id)
            return self._finish(inbound, ReplyOutcome.UNPARSED)
        alert = await self._target(session, sender, reply)
        if alert is None:
            await self._answer(session, effects, sender, texts.nothing_to_answer(sender.language), now, reply_sms)
            return self._finish(inbound, ReplyOutcome.NO_ALERT, f"{reply.intent} {reply.alert_code or ''}")
        inbound.alert_id = alert.id
        taker = await self._taker(session, sender, alert)
        outcome, answer = await self.responses.respond(
            session,
            effects,
            taker,
            reply,
            alert,
            now,
            said="on a call" if reply_sms.key_press else "by SMS",
            key=f"reply:{reply_sms.provider_id}",
        )
        if answer is not None and reply_sms.key_press is None:  # on a call, the answer is spoken
            await self._answer(session, effects, sender, answer, now, reply_sms, alert)
        did = reply_sms.key_press or f"replied {reply_sms.body[:160]!r}"
        log_entry(
            session,
            alert.id,
            at=now,
            kind="reply",
            detail=f"{sender.name} {did}: {outcome.value}",
            actor=taker.actor,
        )
        effects.changed_alert_ids.add(alert.id)
        return self._finish(inbound, outcome)

    async def _availability(
        self,
        session: AsyncSession,
        effects: Effects,
        volunteer: Volunteer,
        reply: Reply,
        now: datetime,
        reply_sms: InboundReply,
    ) -> None:
        """Apply OFF, ON or PAUSE (STATUS changes nothing) and answer with where they stand, until when."""
        if reply.intent is Intent.OFF:
            await availability.go_off(session, volunteer.id, now)
        elif reply.intent is Intent.ON:
            await availability.go_on(session, volunteer.id, now)
        elif reply.intent is Intent.PAUSE and reply.pause is not None:
            await availability.pause(session, volunteer.id, reply.pause, now)
        await session.flush()
        standing = (await standings(session, [volunteer], now, self.zone))[volunteer.id]
        answer = texts.availability(
            standing.duty.value,
            standing.until,
            now=now,
            zone=zone_of(volunteer, self.zone),
            language=volunteer.language,
            after=reply.intent.value,
        )
        sender = Sender(volunteer.phone, volunteer.name, volunteer.language, volunteer=volunteer)
        await self._answer(session, effects, sender, answer, now, reply_sms)

    async def _target(self, session: AsyncSession, sender: Sender, reply: Reply) -> Alert | None:
        """The alert a reply is about: the one it names, or the most fitting recent one."""
        asked = select(Notification.alert_id).where(Notification.purpose.in_(ASKING), sender.asked()).distinct()
        if reply.alert_code is not None:
            return await session.scalar(
                select(Alert).where(Alert.id == reply.alert_code, Alert.id.in_(asked)).with_for_update()
            )
        # Without a number: first the alerts the reply most likely means, then any this phone was asked about.
        held = [state.value for state in TAKEN]
        mine = select(Alert).where(Alert.id.in_(asked), Alert.state.in_(held), sender.took())
        still_open = select(Alert).where(Alert.id.in_(asked), Alert.state == AlertState.OPEN)
        preferred = {
            Intent.ACK: [still_open],
            Intent.DECLINE: [still_open, mine],
            Intent.DONE: [mine, still_open],
            Intent.GO: [mine, still_open],
            Intent.HERE: [mine, still_open],
        }[reply.intent]
        for query in preferred:
            found = await session.scalar(query.order_by(Alert.id.desc()).limit(1).with_for_update())
            if found is not None:
                return found
        return await session.scalar(select(Alert).where(Alert.id.in_(asked)).order_by(Alert.id.desc()).limit(1))

    async def _sender(self, session: AsyncSession, phone: str) -> Sender | None:
        """The volunteer with this number, else the family contact(s) with it; None for a stranger."""
        try:
            normalized = normalize_phone(phone)
        except ValueError:
            return None
        volunteer = await session.scalar(
            select(Volunteer).where(Volunteer.phone == normalized, Volunteer.active.is_(True))
        )
        family = list(
            (
                await session.scalars(
                    select(FamilyContact).where(FamilyContact.phone == normalized).order_by(FamilyContact.id)
                )
            ).all()
        )
        if volunteer is not None:
            return Sender(normalized, volunteer.name, volunteer.language, volunteer=volunteer, family=family)
        if not family:
            return None
        return Sender(normalized, family[0].name, family[0].language, family=family)

    async def _taker(self, session: AsyncSession, sender: Sender, alert: Alert) -> Taker:
        """Who takes or closes ``alert`` when ``sender`` replies (``Sender.taker_for``)."""
        asked_as_volunteer = sender.volunteer is not None and (
            await session.scalar(
                select(Notification.id)
                .where(
                    Notification.alert_id == alert.id,
                    Notification.purpose.in_(ASKING),
                    Notification.volunteer_id == sender.volunteer.id,
                )
                .limit(1)
            )
            is not None
        )
        return sender.taker_for(alert, asked_as_volunteer=asked_as_volunteer)

    async def _answer(
        self,
        session: AsyncSession,
        effects: Effects,
        sender: Sender,
        answer: texts.Message,
        now: datetime,
        reply_sms: InboundReply,
        alert: Alert | None = None,
    ) -> None:
        await queue_sms(
            session,
            effects,
            phone=sender.phone,
            message=answer,
            purpose=Purpose.CONFIRMATION,
            now=now,
            alert_id=alert.id if alert else None,
            volunteer_id=sender.volunteer.id if sender.volunteer else None,
            key=f"reply:{reply_sms.provider_id}:answer",
        )

    async def _help(
        self, session: AsyncSession, effects: Effects, sender: Sender, now: datetime, provider_id: str
    ) -> None:
        recent_help = await session.scalar(
            select(Notification.id).where(
                Notification.phone == sender.phone,
                Notification.purpose == Purpose.HELP,
                Notification.created_at >= now - HELP_QUIET,
            )
        )
        if recent_help is not None:
            return
        await queue_sms(
            session,
            effects,
            phone=sender.phone,
            message=texts.help_answer(sender.language, volunteer=sender.volunteer is not None),
            purpose=Purpose.HELP,
            now=now,
            volunteer_id=sender.volunteer.id if sender.volunteer else None,
            key=f"reply:{provider_id}:help",
        )

    def _finish(self, inbound: InboundSms, outcome: ReplyOutcome, detail: str = "") -> ReplyOutcome:
        inbound.outcome = outcome.value
        inbound.detail = detail
        return outcome

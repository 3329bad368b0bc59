"""Simulated volunteers' phones: what each one received and how it answers.

A phone's script is an ordered list of ``ReplyRule``s. When a message is delivered, the
first rule whose pattern matches (and that has uses left) decides: reply with its body after
its delay, or stay silent. No matching rule also means silence. Every decision is recorded
as a ``Reaction`` at once, so a test can tell "stayed silent" from "not there yet".
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Self

from simulator.sandbox.inbound import InboundSms, NoInboundUrlError
from simulator.sandbox.journal import Journal
from simulator.sandbox.json_fields import optional_int, optional_str, seconds
from simulator.sandbox.records import OutboundMessage, WebhookDelivery
from simulator.sandbox.store import DEFAULT_WAIT_TIMEOUT_S, MessageStore, message_filter
from simulator.sandbox.tasks import BackgroundTasks

logger = logging.getLogger(__name__)


def decide(rules: Sequence[ReplyRule], uses: list[int], body: str) -> tuple[int, str | None] | None:
    """The first rule with uses left whose pattern matches ``body`` (its use counted in ``uses``)
    and its reply (None: silence); None when no rule does."""
    for index, rule in enumerate(rules):
        if (rule.times is not None and uses[index] >= rule.times) or (found := rule.match(body)) is None:
            continue
        uses[index] += 1
        return index, rule.reply if rule.reply is None or rule.pattern is None else found.expand(rule.reply)
    return None


class ReplyDeliveryError(RuntimeError):
    """A reply could not reach the monitor at all (no inbound URL, connection refused, timeout)."""


@dataclass(frozen=True, slots=True)
class ReplyRule:
    #: the text to send back; None = read the message and stay silent. With a ``pattern``, the
    #: text may use the match's groups as ``\\g<name>`` or ``\\1`` (``DONE \\g<code>``).
    reply: str | None
    delay: float = 0.0
    #: a regular expression searched for in the message body; None = any message
    pattern: str | None = None
    #: how many matching messages this rule answers; None = all of them
    times: int | None = None

    def __post_init__(self) -> None:
        if self.delay < 0:
            raise ValueError("a reply delay cannot be negative")
        if self.times is not None and self.times < 1:
            raise ValueError("'times' is at least 1 (or None for always)")
        if self.pattern is not None:
            re.compile(self.pattern)

    def match(self, body: str) -> re.Match[str] | None:
        """The pattern's match in ``body`` (an empty match when there is no pattern)."""
        return re.search(self.pattern if self.pattern is not None else "", body)

    def to_json(self) -> dict[str, object]:
        return {"reply": self.reply, "delay": self.delay, "pattern": self.pattern, "times": self.times}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> ReplyRule:
        """``{"reply": "ACK", "delay": 0.5, "pattern": "SOS", "times": 1}``; ValueError when malformed."""
        try:
            return cls(
                reply=optional_str(data, "reply"),
                delay=seconds(data, "delay"),
                pattern=optional_str(data, "pattern"),
                times=optional_int(data, "times"),
            )
        except re.error as exc:
            raise ValueError(f"'pattern' is not a valid regular expression: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Reaction:
    """How a phone answered one delivered message, decided the moment it arrived."""

    message_sid: str
    received_body: str
    #: the text it sends back after ``delay`` seconds; None = it stays silent
    reply: str | None
    delay: float
    #: the position of the deciding rule in the script; None = no rule matched
    rule_index: int | None


class SimulatedPhone:
    def __init__(self, number: str, store: MessageStore, inbound: InboundSms, tasks: BackgroundTasks) -> None:
        self.number = number
        self._store = store
        self._inbound = inbound
        self._tasks = tasks
        self._rules: list[ReplyRule] = []
        self._uses: list[int] = []
        self.reactions: Journal[Reaction] = Journal()
        #: every reply this phone sent, scripted or on request, with the monitor's answer
        self.replies: Journal[WebhookDelivery] = Journal()

    # -- the script --------------------------------------------------------------------

    @property
    def rules(self) -> tuple[ReplyRule, ...]:
        return tuple(self._rules)

    def set_rules(self, rules: list[ReplyRule]) -> Self:
        self._rules = list(rules)
        self._uses = [0] * len(self._rules)
        return self

    def replies_with(
        self, body: str, *, delay: float = 0.0, pattern: str | None = None, times: int | None = None
    ) -> Self:
        """Add a rule: answer matching messages with ``body`` after ``delay`` seconds."""
        return self.set_rules([*self._rules, ReplyRule(body, delay, pattern, times)])

    def stays_silent(self, *, pattern: str | None = None, times: int | None = None) -> Self:
        """Add a rule: read matching messages and answer nothing."""
        return self.set_rules([*self._rules, ReplyRule(None, 0.0, pattern, times)])

    def clear_script(self) -> Self:
        return self.set_rules([])

    # -- what it received --------------------------------------------------------------

    @property
    def inbox(self) -> list[OutboundMessage]:
        """Every message sent to this number, oldest first, whatever became of it."""
        return self._store.messages.matching(message_filter(to=self.number))

    async def wait_for_messages(
        self,
        count: int = 1,
        *,
        body_contains: str | None = None,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT_S,  # noqa: ASYNC109 - a bounded wait is the point
    ) -> list[OutboundMessage]:
        return await self._store.wait_for_messages(count, to=self.number, body_contains=body_contains, timeout=timeout)

    async def wait_for_reactions(
        self,
        count: int = 1,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT_S,  # noqa: ASYNC109 - a bounded wait is the point
    ) -> list[Reaction]:
        return await self.reactions.wait_for(count, timeout=timeout, what=f"reactions of {self.number}")

    async def wait_for_replies(
        self,
        count: int = 1,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT_S,  # noqa: ASYNC109 - a bounded wait is the point
    ) -> list[WebhookDelivery]:
        return await self.replies.wait_for(count, timeout=timeout, what=f"replies from {self.number}")

    # -- behaviour ---------------------------------------------------------------------

    def receive(self, message: OutboundMessage) -> Reaction:
        """A message was delivered: decide (and record) the reaction, schedule any reply."""
        reaction = self._decide(message)
        self.reactions.append(reaction)
        if reaction.reply is not None:
            self._tasks.spawn(
                self._reply_later(reaction.reply, reaction.delay, message),
                name=f"reply from {self.number} to {message.sid}",
            )
        return reaction

    def _decide(self, message: OutboundMessage) -> Reaction:
        decided = decide(self._rules, self._uses, message.body)
        if decided is None:
            return Reaction(message.sid, message.body, None, 0.0, None)
        index, reply = decided
        return Reaction(message.sid, message.body, reply, self._rules[index].delay, index)

    async def _reply_later(self, body: str, delay: float, message: OutboundMessage) -> None:
        await asyncio.sleep(delay)
        try:
            await self._send(
                body, to=message.from_, messaging_service_sid=message.messaging_service_sid, provider=message.provider
            )
        except ReplyDeliveryError as exc:
            logger.warning("scripted reply from %s was not delivered: %s", self.number, exc)

    async def reply(self, body: str, *, to: str | None = None, correctly_signed: bool = True) -> int:
        """Send an SMS to the monitor now; the HTTP status the monitor answered.

        ``to`` defaults to the number that last texted this phone (or the sandbox's own);
        ``correctly_signed=False`` sends it with a forged ``X-Twilio-Signature``.
        Raises ReplyDeliveryError when the monitor could not be reached at all.
        """
        inbox = self.inbox
        latest = inbox[-1] if inbox else None
        return await self._send(
            body,
            to=to or (latest.from_ if latest else None),
            messaging_service_sid=latest.messaging_service_sid if latest else None,
            correctly_signed=correctly_signed,
            provider=latest.provider if latest else "twilio",
        )

    async def _send(
        self,
        body: str,
        *,
        to: str | None,
        messaging_service_sid: str | None,
        correctly_signed: bool = True,
        provider: str = "twilio",
    ) -> int:
        """Reply the way the provider that carried the message would: an SmsUp push for Alibaba Cloud."""
        try:
            if provider == "aliyun":
                delivery = await self._inbound.push_sms_up(from_=self.number, body=body)
            else:
                delivery = await self._inbound.send(
                    from_=self.number,
                    to=to,
                    body=body,
                    messaging_service_sid=messaging_service_sid,
                    correctly_signed=correctly_signed,
                )
        except NoInboundUrlError as exc:
            raise ReplyDeliveryError(str(exc)) from exc
        self.replies.append(delivery)
        if delivery.answered_status is None:
            raise ReplyDeliveryError(f"{delivery.url}: {delivery.error}")
        return delivery.answered_status


class PhoneBook:
    """Every simulated phone, created on first mention (scripted, or texted by the monitor)."""

    def __init__(self, store: MessageStore, inbound: InboundSms, tasks: BackgroundTasks) -> None:
        self._store = store
        self._inbound = inbound
        self._tasks = tasks
        self._phones: dict[str, SimulatedPhone] = {}

    def phone(self, number: str) -> SimulatedPhone:
        if (found := self._phones.get(number)) is None:
            found = self._phones[number] = SimulatedPhone(number, self._store, self._inbound, self._tasks)
        return found

    def all(self) -> list[SimulatedPhone]:
        return sorted(self._phones.values(), key=lambda phone: phone.number)

    def clear(self) -> None:
        self._phones.clear()

"""The sandbox's memory of messages and create requests, and the waiting done on them."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from simulator.sandbox.journal import Journal
from simulator.sandbox.records import (
    CreateAttempt,
    MessageStatus,
    OutboundMessage,
    StatusChange,
    utc_from_wall,
)
from simulator.sandbox.twilio_errors import DELIVERY_ERROR_MESSAGES

DEFAULT_WAIT_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class SentDateFilter:
    """Twilio's ``DateSent`` / ``DateSent<`` / ``DateSent>`` list filters (GMT, inclusive).

    A bare date compares by day; a date-time (the twilio client sends these) to the second.
    """

    on: datetime | date | None = None
    on_or_before: datetime | date | None = None
    on_or_after: datetime | date | None = None

    def accepts(self, sent: datetime) -> bool:
        return (
            (self.on is None or _compare(sent, self.on) == 0)
            and (self.on_or_before is None or _compare(sent, self.on_or_before) <= 0)
            and (self.on_or_after is None or _compare(sent, self.on_or_after) >= 0)
        )


def _compare(sent: datetime, bound: datetime | date) -> int:
    if isinstance(bound, datetime):
        left, right = sent.replace(microsecond=0), bound
        return (left > right) - (left < right)
    day = sent.date()
    return (day > bound) - (day < bound)


class MessageStore:
    """Every message created (oldest first) and every create request, as journals to wait on."""

    def __init__(self) -> None:
        self.messages: Journal[OutboundMessage] = Journal()
        self.attempts: Journal[CreateAttempt] = Journal()
        self._by_sid: dict[str, OutboundMessage] = {}

    def add(self, message: OutboundMessage) -> None:
        self._by_sid[message.sid] = message
        self.messages.append(message)

    def get(self, sid: str) -> OutboundMessage | None:
        return self._by_sid.get(sid)

    def set_status(self, message: OutboundMessage, status: MessageStatus, error_code: int | None = None) -> None:
        now_monotonic, now_wall = time.monotonic(), time.time()
        message.status = status
        message.updated_wall = now_wall
        if status is MessageStatus.SENT:
            message.sent_wall = now_wall
        if error_code is not None:
            message.error_code = error_code
            message.error_message = DELIVERY_ERROR_MESSAGES.get(error_code, "Unknown error")
        message.history.append(StatusChange(status, now_monotonic, now_wall, error_code))
        self.messages.touch()

    def listing(
        self,
        *,
        to: str | None = None,
        from_: str | None = None,
        date_sent: SentDateFilter | None = None,
    ) -> list[OutboundMessage]:
        """Messages matching Twilio's list filters, newest first as Twilio lists them."""
        found = [
            message
            for message in self.messages
            if (to is None or message.to == to)
            and (from_ is None or message.from_ == from_)
            and (date_sent is None or date_sent.accepts(_sent_at(message)))
        ]
        found.reverse()
        return found

    async def wait_for_messages(
        self,
        count: int = 1,
        *,
        to: str | None = None,
        body_contains: str | None = None,
        since: float | None = None,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT_S,  # noqa: ASYNC109 - a bounded wait is the point
    ) -> list[OutboundMessage]:
        """The matching messages (oldest first) once at least ``count`` were created.

        ``since`` is a ``time.monotonic()`` reading: only messages that arrived at or after it count.
        """
        return await self.messages.wait_for(
            count,
            message_filter(to=to, body_contains=body_contains, since=since),
            timeout=timeout,
            what=f"messages (to={to!r}, body_contains={body_contains!r})",
        )

    def clear(self) -> None:
        self._by_sid.clear()
        self.messages.clear()
        self.attempts.clear()


def message_filter(
    *, to: str | None = None, body_contains: str | None = None, since: float | None = None
) -> Callable[[OutboundMessage], bool]:
    def accepts(message: OutboundMessage) -> bool:
        return (
            (to is None or message.to == to)
            and (body_contains is None or body_contains in message.body)
            and (since is None or message.arrived_monotonic >= since)
        )

    return accepts


def _sent_at(message: OutboundMessage) -> datetime:
    # Twilio filters on date_sent; a message not sent yet is filtered by its creation time
    # so that a list right after a create still finds it.
    return utc_from_wall(message.arrived_wall if message.sent_wall is None else message.sent_wall)

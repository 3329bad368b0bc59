"""The channel seam: the one small interface every way of reaching a person implements.

A channel carries a notification to a person's address: SMS through Twilio
(``monitor.notify.sms.twilio``), a call through Twilio (``monitor.notify.voice.twilio_voice``),
or only into the log (``monitor.notify.log_channel``).
Escalation and the actions decide whom to reach, when and with which ``Message``; the
outbox (``monitor.notify.outbox``) hands each claimed notification to the channel named on
its row. A channel sends a message, finds out whether one it may have sent before an
interruption did go out (so nothing is ever sent twice), answers a cheap health check, and
reads its provider's delivery reports. A provider that cannot push replies and reports to
callwatch's web hooks (a GSM modem) is also a ``Mailbox`` the service fetches them from.
Adding a channel is a module in ``monitor/notify`` implementing ``Channel`` and one line in
``monitor.notify.channels``. A channel may have several
providers (``[sms] providers``): each is a ``Channel`` of the same name, and the outbox sends
through the first that is up (``monitor.notify.provider_watch``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from monitor.notify.texts import Message


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message for one person's address on a channel."""

    to: str
    message: Message
    #: the notification row it carries: a call's TwiML is fetched by it (``monitor.notify.voice``)
    notification_id: int | None = None


@dataclass(frozen=True, slots=True)
class SendReceipt:
    provider_id: str
    status: str
    #: what the provider billed, when it says (SMS segments)
    segments: int | None = None


@dataclass(frozen=True, slots=True)
class ReportedStatus:
    """One delivery report as the provider sent it."""

    provider_id: str
    status: str
    error_code: str | None
    at: datetime


class FailureKind(StrEnum):
    TEMPORARY = "temporary"  # may succeed later: retry with backoff
    PERMANENT = "permanent"  # will not succeed for this address: move on to the next person
    UNKNOWN = "unknown"  # the request may or may not have reached the provider: check first


class SendFailure(Exception):
    def __init__(self, kind: FailureKind, code: str | None, message: str, *, about_recipient: bool = False) -> None:
        super().__init__(f"{kind} failure {code or ''}: {message}".strip())
        self.kind = kind
        self.code = code
        self.message = message
        #: the failure is this address's (invalid, landline, unreachable): the provider itself works
        self.about_recipient = about_recipient


class Channel(Protocol):
    """A way to reach people; an async context manager owning its connections."""

    #: the channel people are reached on, as tiers name it: "sms"
    name: str
    #: who carries it, as ``[sms] providers`` names it: "twilio", "aliyun", "log"
    provider: str
    #: whether its messages may carry the responder link (``links`` of the provider's section)
    links: bool

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def send(self, outgoing: Outgoing) -> SendReceipt:
        """Hand one message to the provider; ``SendFailure`` when it was not accepted."""
        ...

    async def find_sent(self, outgoing: Outgoing, since: datetime) -> SendReceipt | None:
        """The provider's record of this exact message sent since ``since``, if it has one.

        Used after a send whose outcome is unknown (a timeout, a crash mid-request), so that
        a message that did go out is never sent twice.
        """
        ...

    async def check(self) -> None:
        """Ask the provider something cheap; ``SendFailure`` when it cannot be reached or refuses us."""
        ...

    def delivery_report(self, fields: Mapping[str, str], received_at: datetime) -> ReportedStatus | None:
        """The delivery report in a provider's callback (already authenticated), or None if it has none."""
        ...


@dataclass(frozen=True, slots=True)
class ReceivedSms:
    """A reply a provider kept for callwatch to fetch."""

    #: unique for this reply, so a reply fetched twice (a crash before ``forget``) counts once
    provider_id: str
    #: E.164
    from_phone: str
    body: str


@runtime_checkable
class Mailbox(Protocol):
    """A channel whose provider keeps replies and delivery reports for callwatch to fetch."""

    #: how often to fetch
    poll_every_s: float

    async def fetch(self) -> tuple[list[ReceivedSms], list[ReportedStatus]]:
        """What arrived since the last ``forget`` of each (the same again until then)."""
        ...

    async def forget(self, provider_id: str) -> None:
        """A reply or report fetched under ``provider_id`` is recorded: the provider may drop it."""
        ...

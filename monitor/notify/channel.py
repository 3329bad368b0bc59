"""The SMS gateway interface and how a failed send is classified.

Three gateways implement it: Twilio through the official client (also used, unchanged,
against the SMS sandbox), and a console gateway that only logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import TracebackType
from typing import Protocol, Self


@dataclass(frozen=True, slots=True)
class OutgoingSms:
    to: str
    body: str
    #: where the provider posts delivery reports for this message
    status_callback: str | None = None


@dataclass(frozen=True, slots=True)
class SendReceipt:
    provider_id: str
    status: str
    segments: int | None = None


class FailureKind(StrEnum):
    TEMPORARY = "temporary"  # may succeed later: retry with backoff
    PERMANENT = "permanent"  # will not succeed for this number: move on to the next person
    UNKNOWN = "unknown"  # the request may or may not have reached the provider: check first


class SendFailure(Exception):
    def __init__(self, kind: FailureKind, code: str | None, message: str) -> None:
        super().__init__(f"{kind} failure {code or ''}: {message}".strip())
        self.kind = kind
        self.code = code
        self.message = message

    @property
    def about_recipient(self) -> bool:
        """The failure is this number's (invalid, landline, unreachable): the provider itself works."""
        return self.code is not None and self.code.isdigit() and int(self.code) in PERMANENT_TWILIO_CODES


class SmsGateway(Protocol):
    """Sends SMS; an async context manager owning its HTTP session."""

    name: str

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def send(self, sms: OutgoingSms) -> SendReceipt:
        """Hand one SMS to the provider; ``SendFailure`` when it was not accepted."""
        ...

    async def find_sent(self, to: str, body: str, since: datetime) -> SendReceipt | None:
        """The provider's record of this exact SMS sent since ``since``, if it has one.

        Used after a send whose outcome is unknown (a timeout, a crash mid-request), so that
        a message that did go out is never sent twice.
        """
        ...

    async def check(self) -> None:
        """Ask the provider something cheap; ``SendFailure`` when it cannot be reached or refuses us."""
        ...


#: Twilio error codes that will not succeed by retrying the same number.
#: https://www.twilio.com/docs/api/errors
PERMANENT_TWILIO_CODES: frozenset[int] = frozenset(
    {
        21211,  # invalid 'To' number
        21214,  # 'To' number cannot be reached
        21217,  # not a valid phone number
        21408,  # region not enabled
        21610,  # recipient replied STOP
        21612,  # cannot route to this number
        21614,  # 'To' is not a mobile number (landline)
        30003,  # unreachable destination handset
        30004,  # message blocked
        30005,  # unknown destination handset
        30006,  # landline or unreachable carrier
        30007,  # filtered by the carrier
    }
)


def classify_twilio_error(http_status: int, code: int | None) -> FailureKind:
    """Temporary (retry) or permanent (next person) for a Twilio REST or delivery error."""
    if code in PERMANENT_TWILIO_CODES:
        return FailureKind.PERMANENT
    if http_status == 429 or http_status >= 500 or code in (20429, 30001, 30008):
        return FailureKind.TEMPORARY
    if 400 <= http_status < 500:
        # Our own request was refused (credentials, parameters): retrying cannot help.
        return FailureKind.PERMANENT
    return FailureKind.TEMPORARY

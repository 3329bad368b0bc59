"""What the sandbox saw and did: messages created, API requests, webhooks it sent.

Times come in pairs: ``*_monotonic`` is ``time.monotonic()`` (CLOCK_MONOTONIC, comparable
across processes on one Linux host, for latency figures) and ``*_wall`` is ``time.time()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from monitor.notify.sms.segments import SegmentCount


class MessageStatus(StrEnum):
    ACCEPTED = "accepted"
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"


def utc_from_wall(wall: float) -> datetime:
    return datetime.fromtimestamp(wall, tz=UTC)


@dataclass(frozen=True, slots=True)
class StatusChange:
    status: MessageStatus
    at_monotonic: float
    at_wall: float
    error_code: int | None = None


@dataclass(slots=True)
class OutboundMessage:
    """A message the monitor created through the REST API; its status moves on as it is sent."""

    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    messaging_service_sid: str | None
    status_callback: str | None
    segments: SegmentCount
    arrived_monotonic: float
    arrived_wall: float
    status: MessageStatus
    error_code: int | None = None
    error_message: str | None = None
    updated_wall: float = 0.0
    sent_wall: float | None = None
    history: list[StatusChange] = field(default_factory=list)
    #: which provider's API it came through: "twilio", or "aliyun" (template and parameters, no text)
    provider: str = "twilio"
    #: Alibaba Cloud's SendSms fields: the template code, its parameters, the sign name and OutId
    template_code: str | None = None
    template_params: dict[str, str] = field(default_factory=dict)
    sign_name: str | None = None
    out_id: str | None = None

    @property
    def num_segments(self) -> int:
        return self.segments.segments


@dataclass(slots=True)
class PlacedCall:
    """A call the monitor placed through the REST API, and what happened on it."""

    sid: str
    account_sid: str
    to: str
    from_: str
    url: str
    status_callback: str | None
    events: tuple[str, ...]
    timeout_s: int
    machine_detection: bool
    arrived_monotonic: float
    arrived_wall: float
    status: str = "queued"
    answered_by: str | None = None
    started_wall: float | None = None
    ended_wall: float | None = None
    #: what the phone heard, in order (each <Say>)
    heard: list[str] = field(default_factory=list)
    #: keys pressed, in order
    keys: list[str] = field(default_factory=list)
    #: HTTP statuses the monitor answered the TwiML and gather requests with
    answers: list[int | None] = field(default_factory=list)

    @property
    def duration_s(self) -> int:
        if self.started_wall is None or self.ended_wall is None:
            return 0
        return max(1, round(self.ended_wall - self.started_wall))


@dataclass(slots=True)
class CreateAttempt:
    """One ``POST .../Messages.json`` as it arrived, whatever the answer was."""

    arrived_monotonic: float
    arrived_wall: float
    to: str | None = None
    body: str | None = None
    #: None while the request is still held (a slow or never-answered request)
    answered_status: int | None = None
    error_code: int | None = None
    message_sid: str | None = None
    #: whose API it came to: "twilio" or "aliyun" (SendSms)
    provider: str = "twilio"


class WebhookKind(StrEnum):
    STATUS_CALLBACK = "status_callback"
    INBOUND_SMS = "inbound_sms"
    #: a call's TwiML fetched, or a key posted to its gather action
    CALL_TWIML = "call_twiml"
    #: a call's progress
    CALL_STATUS = "call_status"
    #: a reply pushed as Alibaba Cloud's SmsUp (JSON, unsigned)
    SMS_UP = "sms_up"
    #: a delivery report pushed as Alibaba Cloud's SmsReport (JSON, unsigned)
    SMS_REPORT = "sms_report"


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One webhook the sandbox POSTed, and what the receiver answered."""

    kind: WebhookKind
    #: where the request went
    url: str
    #: the URL the signature covers (differs from ``url`` behind a proxy)
    signed_url: str
    params: dict[str, str]
    signature: str
    correctly_signed: bool
    message_sid: str
    sent_monotonic: float
    sent_wall: float
    #: the receiver's HTTP status; None when no answer came (see ``error``)
    answered_status: int | None
    answered_monotonic: float | None
    error: str | None = None

"""Calls through Twilio's official client (``calls.create``), at a configurable API base URL (so
the same code calls the sandbox's simulated phones in tests and the demo).

A call is created with the URL of callwatch's TwiML for its notification (what it says, and the
keys it gathers, ``monitor.web.hooks.voice_hooks``), a status callback for its progress and
fate, a ring timeout, and answering-machine detection: a voicemail is not an answer. After an
interruption (a crash between claiming the call and Twilio's answer), the calls Twilio placed
to that number since the claim are listed before anything is placed again, so a phone is never
rung twice for the same ask.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from monitor.config.settings import TwilioSettings, VoiceSettings
from monitor.notify.channel import FailureKind, Outgoing, ReportedStatus, SendFailure, SendReceipt
from monitor.notify.requests import VOICE
from monitor.notify.sms.twilio import CLOCK_SKEW, TwilioAccount, twilio_errors
from monitor.notify.voice.call_status import call_progress
from monitor.notify.voice.paths import STATUS_PATH, TWIML_PATH, call_url

#: the progress Twilio posts to the status callback (completed alone is its default)
STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]


class TwilioVoice(TwilioAccount):
    """The voice channel through Twilio (or anything speaking its REST API, such as the sandbox)."""

    name = VOICE
    provider = "twilio"
    links = False  # spoken

    def __init__(self, twilio: TwilioSettings, voice: VoiceSettings, *, caller_id: str, public_url: str) -> None:
        super().__init__(twilio)
        self.voice = voice
        self.caller_id = caller_id
        self.public_url = public_url.rstrip("/")

    async def send(self, outgoing: Outgoing) -> SendReceipt:
        if outgoing.notification_id is None:
            raise SendFailure(FailureKind.PERMANENT, "notification", "a call is placed only for a notification row")
        detection = {"machine_detection": "Enable"} if self.voice.machine_detection else {}
        async with twilio_errors("timeout", sending=True):
            call = await self.client.calls.create_async(
                to=outgoing.to,
                from_=self.caller_id,
                url=call_url(self.public_url, TWIML_PATH, outgoing.notification_id),
                method="POST",
                status_callback=call_url(self.public_url, STATUS_PATH, outgoing.notification_id),
                status_callback_event=STATUS_EVENTS,
                status_callback_method="POST",
                timeout=self.voice.ring_timeout_s,
                **detection,
            )
        return SendReceipt(provider_id=call.sid, status=_recorded_status(call.status))

    async def find_sent(self, outgoing: Outgoing, since: datetime) -> SendReceipt | None:
        """A call to this number created since ``since``: a call carries no text to compare, so any
        call to the number since the claim counts (ringing a phone twice is the worse mistake)."""
        async with twilio_errors("lookup", sending=False):
            recent = await self.client.calls.list_async(to=outgoing.to, limit=20)
        for call in recent:
            created = call.date_created
            if created is None or created >= since - CLOCK_SKEW:
                return SendReceipt(call.sid, _recorded_status(call.status))
        return None

    async def check(self) -> None:
        async with twilio_errors("check", sending=False):
            await self.client.calls.list_async(limit=1)

    def delivery_report(self, fields: Mapping[str, str], received_at: datetime) -> ReportedStatus | None:
        """A status callback's ``CallSid``, ``CallStatus`` and ``AnsweredBy`` as a notification's progress."""
        sid = fields.get("CallSid", "")
        progress = call_progress(fields.get("CallStatus", ""), fields.get("AnsweredBy"))
        if not sid or progress is None:
            return None
        status, reason = progress
        return ReportedStatus(sid, status, reason or fields.get("ErrorCode") or None, received_at)


def _recorded_status(call_status: object) -> str:
    progress = call_progress(str(call_status or "queued"))
    return progress[0] if progress is not None else "queued"

"""The phone sandbox: a local stand-in for Twilio's Messages and Calls APIs and the volunteers' phones.

The monitor's production code path — ``twilio.rest.Client`` with ``AsyncTwilioHttpClient``,
its ``https://api.twilio.com`` prefix swapped for ``sandbox.base_url`` — runs unchanged
against it. It answers create / fetch / list in Twilio's JSON shapes, posts signed status
callbacks (queued -> sent -> delivered, or undelivered / failed with an error code), and
plays the volunteers' phones, which answer by signed inbound-SMS webhooks as scripted.

Fixed default credentials (published test values, accepted and used for signing):

* account sid ``AC0000000000000000000000000000005a`` (``DEFAULT_ACCOUNT_SID``)
* auth token ``sandbox-auth-token`` (``DEFAULT_AUTH_TOKEN``)
* the sandbox's own number ``+15005550006`` (``DEFAULT_FROM_NUMBER``)

In a test::

    async with SmsSandbox(inbound_url=f"{monitor_url}/twilio/sms") as sandbox:
        sandbox.phone("+8613900000001").replies_with("收到", delay=0.5)
        sandbox.outcomes.set("+8613900000002", Outcome.undelivered(30003))
        sandbox.faults.fail_next(2, status=429)
        ...  # press a button
        [sms] = await sandbox.wait_for_messages(1, to="+8613900000001")
        sandbox.script_calls("+8613900000003", CallScript.answers(after=5, press="1"))
        [call] = await sandbox.wait_for_calls(1, to="+8613900000003", ended=True)
        call.heard, call.keys  # what the phone was told, and pressed (simulator.sandbox.calls)

From another process, the same is scriptable over HTTP under ``/sandbox/...`` (see
``simulator.sandbox.control_api``), and ``GET /`` shows every phone's inbox.
"""

from simulator.sandbox.calls import CallScript
from simulator.sandbox.faults import ApiFault, FaultKind, FaultPlan
from simulator.sandbox.journal import Journal
from simulator.sandbox.outcomes import Outcome, OutcomeBook, OutcomeKind
from simulator.sandbox.phones import Reaction, ReplyDeliveryError, ReplyRule, SimulatedPhone
from simulator.sandbox.records import (
    CreateAttempt,
    MessageStatus,
    OutboundMessage,
    PlacedCall,
    StatusChange,
    WebhookDelivery,
    WebhookKind,
)
from simulator.sandbox.sandbox import SmsSandbox
from simulator.sandbox.settings import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_FROM_NUMBER,
    SandboxSettings,
)
from simulator.sandbox.signing import SIGNATURE_HEADER
from simulator.sandbox.twilio_errors import DELIVERY_ERROR_MESSAGES, INVALID_TO_NUMBER, NOT_MOBILE_NUMBER

__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "DEFAULT_FROM_NUMBER",
    "DELIVERY_ERROR_MESSAGES",
    "INVALID_TO_NUMBER",
    "NOT_MOBILE_NUMBER",
    "SIGNATURE_HEADER",
    "ApiFault",
    "CallScript",
    "CreateAttempt",
    "FaultKind",
    "FaultPlan",
    "Journal",
    "MessageStatus",
    "OutboundMessage",
    "Outcome",
    "OutcomeBook",
    "OutcomeKind",
    "PlacedCall",
    "Reaction",
    "ReplyDeliveryError",
    "ReplyRule",
    "SandboxSettings",
    "SimulatedPhone",
    "SmsSandbox",
    "StatusChange",
    "WebhookDelivery",
    "WebhookKind",
]

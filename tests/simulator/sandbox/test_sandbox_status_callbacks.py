"""Status callbacks: Twilio's parameters, order and signature."""

from __future__ import annotations

from twilio.rest import Client

from simulator.sandbox import DEFAULT_AUTH_TOKEN, MessageStatus, Outcome, SmsSandbox, WebhookKind

from .testkit import SandboxHttpClient, WebhookReceiver

VOLUNTEER = "+8613900000001"


async def test_callbacks_arrive_in_order_sent_then_delivered_and_validly_signed(
    twilio: Client, sandbox: SmsSandbox, receiver: WebhookReceiver
) -> None:
    callback = f"{receiver.base_url}/twilio/status"
    message = await twilio.messages.create_async(
        to=VOLUNTEER, from_=sandbox.from_number, body="SOS", status_callback=callback
    )

    hooks = await receiver.wait_at("/twilio/status", 2)

    # No callback for the initial "queued", as with Twilio.
    assert [hook.params["MessageStatus"] for hook in hooks] == ["sent", "delivered"]
    assert all(hook.valid for hook in hooks)
    assert hooks[0].at_monotonic <= hooks[1].at_monotonic
    assert hooks[1].params == {
        "MessageSid": message.sid,
        "SmsSid": message.sid,
        "AccountSid": sandbox.account_sid,
        "From": sandbox.from_number,
        "To": VOLUNTEER,
        "MessageStatus": "delivered",
        "SmsStatus": "delivered",
        "ApiVersion": "2010-04-01",
    }
    recorded = await sandbox.wait_for_webhooks(2, kind=WebhookKind.STATUS_CALLBACK, message_sid=message.sid)
    assert [delivery.answered_status for delivery in recorded] == [200, 200]


async def test_undelivered_carries_the_error_code(
    twilio: Client, sandbox: SmsSandbox, receiver: WebhookReceiver
) -> None:
    sandbox.outcomes.set(VOLUNTEER, Outcome.undelivered(30003))

    message = await twilio.messages.create_async(
        to=VOLUNTEER, from_=sandbox.from_number, body="SOS", status_callback=f"{receiver.base_url}/twilio/status"
    )
    hooks = await receiver.wait_at("/twilio/status", 2)

    assert [hook.params["MessageStatus"] for hook in hooks] == ["sent", "undelivered"]
    assert "ErrorCode" not in hooks[0].params
    assert hooks[1].params["ErrorCode"] == "30003"
    assert hooks[1].valid
    fetched = await twilio.messages(message.sid).fetch_async()
    assert (fetched.status, fetched.error_code) == ("undelivered", 30003)
    assert fetched.error_message == "Unreachable destination handset"
    # An undelivered message never reaches the phone, so the phone never reacts to it.
    await sandbox.idle()
    assert sandbox.phone(VOLUNTEER).reactions.matching() == []


async def test_the_default_outcome_can_fail_every_message(
    twilio: Client, sandbox: SmsSandbox, receiver: WebhookReceiver
) -> None:
    sandbox.outcomes.default = Outcome.failed(30006)

    await twilio.messages.create_async(
        to=VOLUNTEER, from_=sandbox.from_number, body="SOS", status_callback=f"{receiver.base_url}/twilio/status"
    )
    [hook] = await receiver.wait_at("/twilio/status", 1)

    assert (hook.params["MessageStatus"], hook.params["ErrorCode"]) == ("failed", "30006")


async def test_a_messaging_service_message_goes_accepted_queued_sent_delivered(
    twilio: Client, sandbox: SmsSandbox, receiver: WebhookReceiver
) -> None:
    service = "MG" + "2" * 32
    message = await twilio.messages.create_async(
        to=VOLUNTEER, messaging_service_sid=service, body="SOS", status_callback=f"{receiver.base_url}/twilio/status"
    )

    hooks = await receiver.wait_at("/twilio/status", 3)

    assert [hook.params["MessageStatus"] for hook in hooks] == ["queued", "sent", "delivered"]
    assert {hook.params["MessagingServiceSid"] for hook in hooks} == {service}
    stored = sandbox.message(message.sid)
    assert stored is not None
    assert [change.status for change in stored.history] == [
        MessageStatus.QUEUED,
        MessageStatus.SENT,
        MessageStatus.DELIVERED,
    ]


async def test_behind_a_proxy_the_public_url_is_signed_and_the_local_one_called(receiver: WebhookReceiver) -> None:
    receiver.public_base_url = "https://callwatch.example.org"
    async with SmsSandbox(
        status_step_delay=0.0,
        inbound_url=f"{receiver.base_url}/twilio/sms",
        signing_url="https://callwatch.example.org/twilio/sms",
    ) as sandbox:
        http_client = SandboxHttpClient(sandbox.base_url)
        twilio = Client(sandbox.account_sid, sandbox.auth_token, http_client=http_client)
        try:
            await twilio.messages.create_async(
                to=VOLUNTEER,
                from_=sandbox.from_number,
                body="SOS",
                status_callback="https://callwatch.example.org/twilio/status",
            )
            hooks = await receiver.wait_at("/twilio/status", 2)
        finally:
            await http_client.close()

    assert all(hook.valid for hook in hooks)
    assert {delivery.signed_url for delivery in sandbox.webhooks()} == {"https://callwatch.example.org/twilio/status"}


async def test_status_changes_without_a_callback_url_are_only_recorded(
    twilio: Client, sandbox: SmsSandbox, receiver: WebhookReceiver
) -> None:
    message = await twilio.messages.create_async(to=VOLUNTEER, from_=sandbox.from_number, body="SOS")

    await sandbox.idle()

    assert receiver.received.matching() == []
    stored = sandbox.message(message.sid)
    assert stored is not None and stored.status is MessageStatus.DELIVERED


async def test_callbacks_are_signed_with_the_auth_token(
    twilio: Client, sandbox: SmsSandbox, receiver: WebhookReceiver
) -> None:
    await twilio.messages.create_async(
        to=VOLUNTEER, from_=sandbox.from_number, body="SOS", status_callback=f"{receiver.base_url}/twilio/status"
    )
    [first, _] = await receiver.wait_at("/twilio/status", 2)

    expected = receiver.validator.compute_signature(f"{receiver.base_url}/twilio/status", first.params)
    assert first.signature == expected
    assert receiver.validator.token == DEFAULT_AUTH_TOKEN.encode()

"""Simulated volunteers' phones: scripted replies, silence, replies on request, forged replies."""

from __future__ import annotations

import pytest
from twilio.rest import Client

from simulator.sandbox import ReplyDeliveryError, ReplyRule, SmsSandbox, WebhookKind

from .testkit import WebhookReceiver

VOLUNTEER = "+8613900000001"


async def _text(twilio: Client, sandbox: SmsSandbox, body: str, to: str = VOLUNTEER) -> str:
    message = await twilio.messages.create_async(to=to, from_=sandbox.from_number, body=body)
    sid: str = message.sid
    return sid


async def test_a_scripted_phone_replies_with_a_signed_webhook_after_its_delay(
    twilio: Client, sandbox: SmsSandbox, receiver: WebhookReceiver
) -> None:
    phone = sandbox.phone(VOLUNTEER).replies_with("收到", delay=0.3)

    sid = await _text(twilio, sandbox, "SOS 王秀英 Block 12")
    [reaction] = await phone.wait_for_reactions(1)
    [reply] = await receiver.wait_at("/twilio/sms", 1)

    assert (reaction.message_sid, reaction.reply) == (sid, "收到")
    delivered_at = sandbox.messages()[0].history[-1].at_monotonic
    assert reply.at_monotonic - delivered_at >= 0.3
    assert reply.valid
    params = reply.params
    assert (params["From"], params["To"], params["Body"]) == (VOLUNTEER, sandbox.from_number, "收到")
    assert params["MessageSid"].startswith("SM") and params["SmsSid"] == params["MessageSid"]
    assert params["AccountSid"] == sandbox.account_sid
    assert (params["NumMedia"], params["NumSegments"], params["ApiVersion"]) == ("0", "1", "2010-04-01")
    assert params["FromCountry"] == "CN"
    [sent] = await phone.wait_for_replies(1)
    assert sent.answered_status == 200 and sent.kind is WebhookKind.INBOUND_SMS


async def test_a_phone_told_to_stay_silent_answers_nothing(
    twilio: Client, sandbox: SmsSandbox, receiver: WebhookReceiver
) -> None:
    phone = sandbox.phone(VOLUNTEER).stays_silent()

    sid = await _text(twilio, sandbox, "SOS")
    [reaction] = await phone.wait_for_reactions(1)
    await sandbox.idle()  # every progression and scheduled reply has run its course

    assert (reaction.message_sid, reaction.reply, reaction.rule_index) == (sid, None, 0)
    assert phone.replies.matching() == []
    assert receiver.at("/twilio/sms") == []


async def test_a_phone_without_a_script_reads_and_stays_silent(twilio: Client, sandbox: SmsSandbox) -> None:
    await _text(twilio, sandbox, "SOS")

    [reaction] = await sandbox.phone(VOLUNTEER).wait_for_reactions(1)

    assert (reaction.reply, reaction.rule_index) == (None, None)


async def test_rules_match_patterns_fill_in_groups_and_run_out(
    twilio: Client, sandbox: SmsSandbox, receiver: WebhookReceiver
) -> None:
    phone = sandbox.phone(VOLUNTEER).set_rules(
        [
            ReplyRule(r"DONE \g<code>", pattern=r"resolve with (?P<code>[A-Z0-9]+)", times=1),
            ReplyRule("ACK", pattern="SOS", times=1),
        ]
    )

    await _text(twilio, sandbox, "SOS 1")
    await phone.wait_for_reactions(1)  # so "first time" is this message
    await _text(twilio, sandbox, "SOS 2")  # the ACK rule is used up: silence
    await _text(twilio, sandbox, "Taken by Li. To close, resolve with K7Q2")
    reactions = await phone.wait_for_reactions(3)
    replies = await receiver.wait_at("/twilio/sms", 2)

    by_body = {reaction.received_body: reaction.reply for reaction in reactions}
    assert by_body == {"SOS 1": "ACK", "SOS 2": None, "Taken by Li. To close, resolve with K7Q2": "DONE K7Q2"}
    assert sorted(hook.params["Body"] for hook in replies) == ["ACK", "DONE K7Q2"]


async def test_a_phone_replies_on_request_with_the_monitors_answer(
    twilio: Client, sandbox: SmsSandbox, receiver: WebhookReceiver
) -> None:
    await _text(twilio, sandbox, "SOS", to=VOLUNTEER)

    status = await sandbox.phone(VOLUNTEER).reply("ACK")

    assert status == 200
    [hook] = receiver.at("/twilio/sms")
    assert hook.valid and hook.params["Body"] == "ACK"
    assert hook.params["To"] == sandbox.from_number  # answers the number that texted it


async def test_a_forged_reply_is_refused_by_a_validating_receiver(
    sandbox: SmsSandbox, receiver: WebhookReceiver
) -> None:
    status = await sandbox.phone(VOLUNTEER).reply("ACK", correctly_signed=False)

    assert status == 403
    [hook] = receiver.at("/twilio/sms")
    assert not hook.valid
    [sent] = sandbox.phone(VOLUNTEER).replies.matching()
    assert not sent.correctly_signed


async def test_replies_are_signed_for_the_signing_url_behind_a_proxy(
    sandbox: SmsSandbox, receiver: WebhookReceiver
) -> None:
    receiver.public_base_url = "https://callwatch.example.org"
    sandbox.set_inbound_url(f"{receiver.base_url}/twilio/sms", signing_url="https://callwatch.example.org/twilio/sms")

    assert await sandbox.phone(VOLUNTEER).reply("ACK") == 200

    sandbox.set_inbound_url(f"{receiver.base_url}/twilio/sms")  # now signed for the wrong URL
    assert await sandbox.phone(VOLUNTEER).reply("ACK") == 403


async def test_replying_with_nowhere_to_reply_to_is_an_error(sandbox: SmsSandbox) -> None:
    sandbox.set_inbound_url(None)

    with pytest.raises(ReplyDeliveryError):
        await sandbox.phone(VOLUNTEER).reply("ACK")


async def test_an_unreachable_monitor_is_an_error_and_is_recorded(sandbox: SmsSandbox) -> None:
    sandbox.set_inbound_url("http://127.0.0.1:9/twilio/sms")  # the discard port: nothing listens

    with pytest.raises(ReplyDeliveryError):
        await sandbox.phone(VOLUNTEER).reply("ACK")

    [sent] = sandbox.phone(VOLUNTEER).replies.matching()
    assert sent.answered_status is None and sent.error is not None

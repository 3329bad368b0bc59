"""What tests and benchmarks observe: waits that wake on events, arrival times, records."""

from __future__ import annotations

import asyncio
import time

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from simulator.sandbox import Journal, SmsSandbox

VOLUNTEER = "+8613900000001"


async def test_wait_for_messages_wakes_when_the_matching_message_arrives(twilio: Client, sandbox: SmsSandbox) -> None:
    waiting = asyncio.ensure_future(sandbox.wait_for_messages(1, to=VOLUNTEER, body_contains="SOS"))
    await twilio.messages.create_async(to="+8613900000002", from_=sandbox.from_number, body="SOS elsewhere")
    await twilio.messages.create_async(to=VOLUNTEER, from_=sandbox.from_number, body="heartbeat lost")
    assert not waiting.done()

    await twilio.messages.create_async(to=VOLUNTEER, from_=sandbox.from_number, body="SOS 王秀英")
    [message] = await waiting

    assert message.body == "SOS 王秀英"


async def test_since_counts_only_messages_that_arrived_after_it(twilio: Client, sandbox: SmsSandbox) -> None:
    await twilio.messages.create_async(to=VOLUNTEER, from_=sandbox.from_number, body="before")
    pressed = time.monotonic()
    await twilio.messages.create_async(to=VOLUNTEER, from_=sandbox.from_number, body="after")

    [message] = await sandbox.wait_for_messages(1, to=VOLUNTEER, since=pressed)

    assert message.body == "after"
    assert message.arrived_monotonic >= pressed
    assert abs(message.arrived_wall - time.time()) < 5


async def test_wait_for_messages_times_out_with_what_it_saw(twilio: Client, sandbox: SmsSandbox) -> None:
    await twilio.messages.create_async(to=VOLUNTEER, from_=sandbox.from_number, body="one")

    with pytest.raises(TimeoutError, match="saw 1"):
        await sandbox.wait_for_messages(2, to=VOLUNTEER, timeout=0.05)


async def test_every_create_request_is_recorded_with_its_answer(twilio: Client, sandbox: SmsSandbox) -> None:
    sandbox.faults.fail_next(1, status=429)
    with pytest.raises(TwilioRestException):
        await twilio.messages.create_async(to=VOLUNTEER, from_=sandbox.from_number, body="first try")
    message = await twilio.messages.create_async(to=VOLUNTEER, from_=sandbox.from_number, body="second try")

    refused, accepted = await sandbox.wait_for_create_attempts(2)

    assert (refused.body, refused.answered_status, refused.error_code, refused.message_sid) == (
        "first try",
        429,
        20429,
        None,
    )
    assert (accepted.answered_status, accepted.message_sid) == (201, message.sid)
    assert refused.arrived_monotonic < accepted.arrived_monotonic


async def test_the_sandbox_has_no_base_url_outside_its_block() -> None:
    sandbox = SmsSandbox()
    with pytest.raises(RuntimeError):
        _ = sandbox.base_url
    async with sandbox:
        assert sandbox.base_url.startswith("http://127.0.0.1:")
    with pytest.raises(RuntimeError):
        _ = sandbox.base_url


async def test_a_journal_wait_sees_items_that_changed_in_place() -> None:
    journal: Journal[list[str]] = Journal()
    box: list[str] = []
    journal.append(box)
    waiting = asyncio.ensure_future(journal.wait_for(1, lambda item: "done" in item, timeout=5))
    await asyncio.sleep(0)  # let the waiter scan once and find nothing
    assert not waiting.done()

    box.append("done")
    journal.touch()

    assert await waiting == [["done"]]

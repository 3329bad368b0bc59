"""Scripted API trouble: HTTP errors for the next N creates, slow answers, no answer at all."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from simulator.sandbox import SmsSandbox

VOLUNTEER = "+8613900000001"


async def _create(twilio: Client, sandbox: SmsSandbox, to: str = VOLUNTEER) -> str:
    message = await twilio.messages.create_async(to=to, from_=sandbox.from_number, body="SOS")
    sid: str = message.sid
    return sid


async def test_429_for_the_next_two_requests_then_success(twilio: Client, sandbox: SmsSandbox) -> None:
    sandbox.faults.fail_next(2, status=429)

    for _ in range(2):
        with pytest.raises(TwilioRestException) as raised:
            await _create(twilio, sandbox)
        assert (raised.value.status, raised.value.code) == (429, 20429)
    sid = await _create(twilio, sandbox)

    assert [message.sid for message in sandbox.messages()] == [sid]
    assert [attempt.answered_status for attempt in sandbox.create_attempts()] == [429, 429, 201]
    assert sandbox.faults.pending() == []


@pytest.mark.parametrize("status", [500, 503])
async def test_5xx_for_the_next_request_then_success(twilio: Client, sandbox: SmsSandbox, status: int) -> None:
    sandbox.faults.fail_next(1, status=status)

    with pytest.raises(TwilioRestException) as raised:
        await _create(twilio, sandbox)
    assert (raised.value.status, raised.value.code) == (status, 20000 + status)
    await _create(twilio, sandbox)

    assert len(sandbox.messages()) == 1


async def test_a_fault_for_one_number_leaves_the_others_alone(twilio: Client, sandbox: SmsSandbox) -> None:
    sandbox.faults.fail_next(1, status=500, to="+8613900000009")

    await _create(twilio, sandbox)  # another number: untouched
    with pytest.raises(TwilioRestException):
        await _create(twilio, sandbox, to="+8613900000009")


async def test_a_slow_answer_still_records_the_arrival_at_once(twilio: Client, sandbox: SmsSandbox) -> None:
    sandbox.faults.slow_next(1, delay=0.3)
    before = time.monotonic()

    await _create(twilio, sandbox)

    answered = time.monotonic()
    [attempt] = sandbox.create_attempts()
    assert answered - before >= 0.3
    assert attempt.arrived_monotonic - before < 0.2  # stamped on arrival, not on answer


async def test_a_request_never_answered_times_out_and_the_sandbox_still_stops(sandbox: SmsSandbox) -> None:
    sandbox.faults.hang_next(1)
    url = f"{sandbox.base_url}/2010-04-01/Accounts/{sandbox.account_sid}/Messages.json"

    async with httpx.AsyncClient(auth=(sandbox.account_sid, sandbox.auth_token)) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.post(url, data={"To": VOLUNTEER, "From": "+15005550006", "Body": "SOS"}, timeout=0.3)

    [attempt] = sandbox.create_attempts()
    assert attempt.answered_status is None
    assert sandbox.messages() == []


async def test_a_held_request_is_released_when_the_sandbox_stops() -> None:
    async with SmsSandbox() as sandbox:
        sandbox.faults.hang_next(1)
        url = f"{sandbox.base_url}/2010-04-01/Accounts/{sandbox.account_sid}/Messages.json"
        http = httpx.AsyncClient(auth=(sandbox.account_sid, sandbox.auth_token))
        held = asyncio.ensure_future(http.post(url, data={"To": VOLUNTEER, "From": "+15005550006", "Body": "x"}))
        await sandbox.wait_for_create_attempts(1)
    response = await held
    await http.aclose()

    assert response.status_code == 503

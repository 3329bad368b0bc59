"""Scripting and observing the sandbox over HTTP, as a test or monitor in another process would."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from simulator.sandbox import SmsSandbox

from .testkit import WebhookReceiver

VOLUNTEER = "+8613900000001"
PHONE_PATH = quote(VOLUNTEER, safe="")


@pytest.fixture
async def control(sandbox: SmsSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{sandbox.base_url}/sandbox") as http:
        yield http


async def test_outcomes_set_over_http_apply_to_creates(
    control: httpx.AsyncClient, twilio: Client, sandbox: SmsSandbox
) -> None:
    response = await control.put(f"/outcomes/{PHONE_PATH}", json={"outcome": "rejected", "error_code": 21614})
    assert response.status_code == 200

    with pytest.raises(TwilioRestException) as raised:
        await twilio.messages.create_async(to=VOLUNTEER, from_=sandbox.from_number, body="SOS")
    assert raised.value.code == 21614

    assert (await control.delete(f"/outcomes/{PHONE_PATH}")).status_code == 204
    await twilio.messages.create_async(to=VOLUNTEER, from_=sandbox.from_number, body="SOS")


async def test_faults_added_over_http_apply_to_the_next_creates(
    control: httpx.AsyncClient, twilio: Client, sandbox: SmsSandbox
) -> None:
    response = await control.post("/faults", json={"kind": "error", "status": 503, "count": 1})
    assert response.status_code == 201
    assert response.json()["error_code"] == 20503

    with pytest.raises(TwilioRestException) as raised:
        await twilio.messages.create_async(to=VOLUNTEER, from_=sandbox.from_number, body="SOS")
    assert raised.value.status == 503
    await twilio.messages.create_async(to=VOLUNTEER, from_=sandbox.from_number, body="SOS")


async def test_a_phone_scripted_over_http_replies(
    control: httpx.AsyncClient, twilio: Client, sandbox: SmsSandbox, receiver: WebhookReceiver
) -> None:
    rules = [{"reply": "ACK", "delay": 0, "pattern": "SOS", "times": 1}]
    assert (await control.put(f"/phones/{PHONE_PATH}/script", json={"rules": rules})).status_code == 200

    await twilio.messages.create_async(to=VOLUNTEER, from_=sandbox.from_number, body="SOS")
    [hook] = await receiver.wait_at("/twilio/sms", 1)

    assert hook.valid and hook.params["Body"] == "ACK"
    state = (await control.get("/state")).json()
    assert state["phones"][VOLUNTEER] == rules


async def test_a_reply_on_request_over_http_returns_the_monitors_answer(control: httpx.AsyncClient) -> None:
    good = await control.post(f"/phones/{PHONE_PATH}/reply", json={"body": "ACK"})
    forged = await control.post(f"/phones/{PHONE_PATH}/reply", json={"body": "ACK", "correctly_signed": False})

    assert good.json() == {"status": 200}
    assert forged.json() == {"status": 403}


async def test_messages_can_be_awaited_over_http(
    control: httpx.AsyncClient, twilio: Client, sandbox: SmsSandbox
) -> None:
    waiting = asyncio.ensure_future(control.get("/messages", params={"to": VOLUNTEER, "count": 2, "timeout": 5}))
    for body in ("first", "second"):
        await twilio.messages.create_async(to=VOLUNTEER, from_=sandbox.from_number, body=body)

    response = await waiting

    messages = response.json()["messages"]
    assert [message["body"] for message in messages] == ["first", "second"]
    assert messages[0]["arrived_monotonic"] <= messages[1]["arrived_monotonic"]
    timed_out = await control.get("/messages", params={"to": VOLUNTEER, "count": 3, "timeout": 0.05})
    assert timed_out.status_code == 504


async def test_settings_can_be_changed_and_everything_reset(
    control: httpx.AsyncClient, twilio: Client, sandbox: SmsSandbox
) -> None:
    response = await control.patch("/settings", json={"inbound_url": "http://127.0.0.1:1/x", "status_step_delay": 0})
    assert response.json()["inbound_url"] == "http://127.0.0.1:1/x"
    assert sandbox.settings.inbound_url == "http://127.0.0.1:1/x"
    await twilio.messages.create_async(to=VOLUNTEER, from_=sandbox.from_number, body="SOS")
    await control.post("/faults", json={"kind": "hang", "count": None})

    assert (await control.post("/reset")).status_code == 204

    assert sandbox.messages() == [] and sandbox.faults.pending() == []
    assert (await control.get("/requests")).json() == {"requests": []}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/outcomes/default", {"outcome": "exploded"}),
        ("PUT", f"/outcomes/{PHONE_PATH}", {"outcome": "rejected", "error_code": 30003}),
        ("POST", "/faults", {"kind": "error", "status": 200}),
        ("PUT", f"/phones/{PHONE_PATH}/script", {"rules": [{"reply": "ACK", "pattern": "("}]}),
        ("PATCH", "/settings", {"status_step_delay": "soon"}),
    ],
)
async def test_bad_control_requests_are_400(
    control: httpx.AsyncClient, method: str, path: str, body: dict[str, object]
) -> None:
    response = await control.request(method, path, json=body)

    assert response.status_code == 400
    assert "error" in response.json()


async def test_webhooks_and_phones_are_observable(
    control: httpx.AsyncClient, twilio: Client, sandbox: SmsSandbox, receiver: WebhookReceiver
) -> None:
    sandbox.phone(VOLUNTEER).replies_with("ACK")
    await twilio.messages.create_async(
        to=VOLUNTEER, from_=sandbox.from_number, body="SOS", status_callback=f"{receiver.base_url}/twilio/status"
    )
    await sandbox.phone(VOLUNTEER).wait_for_replies(1)
    await sandbox.wait_for_webhooks(2, kind=None)

    replies = (await control.get("/webhooks", params={"kind": "inbound_sms"})).json()["webhooks"]
    [phone] = (await control.get("/phones")).json()["phones"]

    assert [reply["params"]["Body"] for reply in replies] == ["ACK"]
    assert phone["number"] == VOLUNTEER
    assert [message["body"] for message in phone["inbox"]] == ["SOS"]
    assert [reaction["reply"] for reaction in phone["reactions"]] == ["ACK"]

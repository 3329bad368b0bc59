"""Calls: the real twilio client's ``calls.create`` rings a simulated phone, which fetches the TwiML
signed, hears it, presses its script's keys (or a person's on the page), and reports the call's
progress to the status callback, signed, as Twilio does."""

from __future__ import annotations

import httpx
import pytest
from twilio.rest import Client

from simulator.sandbox import CallScript, SmsSandbox
from tests.support.waiting import until

from .testkit import WebhookReceiver

VOLUNTEER = "+8613900000001"
EVENTS = ["initiated", "ringing", "answered", "completed"]


async def place(twilio: Client, sandbox: SmsSandbox, receiver: WebhookReceiver) -> str:
    call = await twilio.calls.create_async(
        to=VOLUNTEER,
        from_=sandbox.from_number,
        url=f"{receiver.base_url}/twiml",
        status_callback=f"{receiver.base_url}/twilio/status",
        status_callback_event=EVENTS,
        machine_detection="Enable",
        timeout=5,
    )
    assert call.status == "queued"
    return str(call.sid)


async def test_an_answered_call_hears_its_twiml_presses_its_key_and_reports_signed(
    twilio: Client, sandbox: SmsSandbox, receiver: WebhookReceiver
) -> None:
    receiver.twiml = (
        f'<Response><Gather action="{receiver.base_url}/key" numDigits="1">'
        "<Say>Wang needs help.</Say><Pause/><Say>Wang needs help.</Say></Gather><Say>Goodbye.</Say></Response>"
    )
    receiver.after_key = "<Response><Say>It is yours.</Say><Hangup/></Response>"
    sandbox.script_calls(VOLUNTEER, CallScript.answers(after=0.1, press="1"))

    sid = await place(twilio, sandbox, receiver)
    [call] = await sandbox.wait_for_calls(1, ended=True)
    statuses = await receiver.wait_at("/twilio/status", 4)
    [fetched] = await receiver.wait_at("/twiml")
    [key] = await receiver.wait_at("/key")

    assert call.sid == sid and call.answered_by == "human" and call.status == "completed"
    assert call.heard == ["Wang needs help.", "Wang needs help.", "It is yours."]  # no goodbye: a key came
    assert call.keys == ["1"]
    assert [hook.params["CallStatus"] for hook in statuses] == ["initiated", "ringing", "in-progress", "completed"]
    assert all(hook.valid for hook in [*statuses, fetched, key])
    assert (fetched.params["CallSid"], fetched.params["To"], fetched.params["AnsweredBy"]) == (sid, VOLUNTEER, "human")
    assert key.params["Digits"] == "1"
    [listed] = await twilio.calls.list_async(to=VOLUNTEER, limit=20)
    assert (listed.sid, listed.status, listed.answered_by) == (sid, "completed", "human")
    assert (await twilio.calls(sid).fetch_async()).status == "completed"


@pytest.mark.parametrize(
    ("script", "progress", "answered_by"),
    [
        (CallScript.busy(), ["initiated", "busy"], None),
        (CallScript.never_answers(ring=0.1), ["initiated", "ringing", "no-answer"], None),
        (CallScript.voicemail(), ["initiated", "ringing", "in-progress", "completed"], "machine_start"),
    ],
)
async def test_busy_unanswered_and_voicemail_are_reported_as_twilio_does(
    twilio: Client,
    sandbox: SmsSandbox,
    receiver: WebhookReceiver,
    script: CallScript,
    progress: list[str],
    answered_by: str | None,
) -> None:
    receiver.twiml = "<Response><Hangup/></Response>"
    sandbox.script_calls(VOLUNTEER, script)
    await place(twilio, sandbox, receiver)
    [call] = await sandbox.wait_for_calls(1, ended=True)
    hooks = await receiver.wait_at("/twilio/status", len(progress))
    assert [hook.params["CallStatus"] for hook in hooks] == progress
    assert call.answered_by == answered_by and call.heard == []


async def test_a_person_presses_a_key_on_the_page(
    twilio: Client, sandbox: SmsSandbox, receiver: WebhookReceiver
) -> None:
    receiver.twiml = f'<Response><Gather action="{receiver.base_url}/key"><Say>Press 1 or 2.</Say></Gather></Response>'
    async with httpx.AsyncClient(base_url=sandbox.base_url) as page:
        scripted = await page.put(
            f"/sandbox/phones/{VOLUNTEER.replace('+', '%2B')}/calls", json={"pickup": "hand", "after": 0}
        )
        sid = await place(twilio, sandbox, receiver)
        # The phone hears the TwiML, then waits for a person.
        await until(lambda: sandbox.waiting_for_key(sid), what="the call waiting for a key")
        shown = (await page.get("/")).text
        pressed = await page.post(f"/calls/{sid}/press", data={"key": "2"})
        [call] = await sandbox.wait_for_calls(1, ended=True)
        listed = (await page.get("/sandbox/calls")).json()["calls"]
    assert scripted.status_code == 200
    assert "Press 1 or 2." in shown and f'action="/calls/{sid}/press"' in shown
    assert pressed.status_code == 303
    assert call.keys == ["2"]
    assert [(entry["sid"], entry["keys"]) for entry in listed] == [(sid, ["2"])]

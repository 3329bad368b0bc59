"""The Twilio-shaped REST API, driven by the real twilio client."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from simulator.sandbox import INVALID_TO_NUMBER, NOT_MOBILE_NUMBER, Outcome, SmsSandbox

from .testkit import SandboxHttpClient

VOLUNTEER = "+8613900000001"


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("中" * 70, 1),
        ("中" * 71, 2),
        ("€" * 80, 1),  # extension characters take two septets: 160
        ("€" * 81, 2),
    ],
    ids=["gsm7-160", "gsm7-161", "ucs2-70", "ucs2-71", "gsm7-ext-160", "gsm7-ext-162"],
)
async def test_create_returns_a_sid_and_counts_segments_like_twilio(
    twilio: Client, sandbox: SmsSandbox, body: str, segments: int
) -> None:
    before = time.monotonic()
    message = await twilio.messages.create_async(to=VOLUNTEER, from_=sandbox.from_number, body=body)

    assert message.sid.startswith("SM") and len(message.sid) == 34
    int(message.sid[2:], 16)  # hex digits
    assert message.num_segments == str(segments)
    assert message.status == "queued"
    assert message.direction == "outbound-api"
    assert message.account_sid == sandbox.account_sid
    assert (message.to, message.from_, message.body) == (VOLUNTEER, sandbox.from_number, body)
    assert message.error_code is None and message.price is None
    assert message.uri == f"/2010-04-01/Accounts/{sandbox.account_sid}/Messages/{message.sid}.json"
    assert message.date_created is not None and message.date_created.tzinfo is not None
    [recorded] = sandbox.messages()
    assert recorded.sid == message.sid
    assert before <= recorded.arrived_monotonic <= time.monotonic()


async def test_fetch_follows_the_status_and_unknown_sids_are_404(twilio: Client, sandbox: SmsSandbox) -> None:
    created = await twilio.messages.create_async(to=VOLUNTEER, from_=sandbox.from_number, body="SOS")
    phone = sandbox.phone(VOLUNTEER)
    await phone.wait_for_reactions(1)  # the phone only reacts once the message is delivered

    fetched = await twilio.messages(created.sid).fetch_async()

    assert fetched.sid == created.sid
    assert fetched.status == "delivered"
    assert fetched.date_sent is not None
    with pytest.raises(TwilioRestException) as raised:
        await twilio.messages("SM" + "f" * 32).fetch_async()
    assert (raised.value.status, raised.value.code) == (404, 20404)


async def test_list_filters_and_pages_newest_first(twilio: Client, sandbox: SmsSandbox) -> None:
    for number in range(5):
        await twilio.messages.create_async(to=VOLUNTEER, from_=sandbox.from_number, body=f"alert {number}")
    await twilio.messages.create_async(to="+8613900000002", from_=sandbox.from_number, body="other")

    to_volunteer = await twilio.messages.list_async(to=VOLUNTEER, page_size=2)  # three pages
    everything = await twilio.messages.list_async()
    limited = await twilio.messages.list_async(limit=2)

    assert [message.body for message in to_volunteer] == [f"alert {n}" for n in (4, 3, 2, 1, 0)]
    assert len(everything) == 6 and everything[0].body == "other"
    assert [message.body for message in limited] == ["other", "alert 4"]


async def test_list_filters_on_the_date_sent(twilio: Client, sandbox: SmsSandbox) -> None:
    await twilio.messages.create_async(to=VOLUNTEER, from_=sandbox.from_number, body="today")
    today = datetime.now(UTC)

    assert len(await twilio.messages.list_async(date_sent_after=today - timedelta(hours=1))) == 1
    assert await twilio.messages.list_async(date_sent_before=today - timedelta(hours=1)) == []
    assert await twilio.messages.list_async(date_sent_after=today + timedelta(hours=1)) == []


async def test_list_envelope_is_twilios(sandbox: SmsSandbox) -> None:
    async with httpx.AsyncClient(auth=(sandbox.account_sid, sandbox.auth_token)) as http:
        url = f"{sandbox.base_url}/2010-04-01/Accounts/{sandbox.account_sid}/Messages.json"
        for body in ("one", "two", "three"):
            await http.post(url, data={"To": VOLUNTEER, "From": sandbox.from_number, "Body": body})
        page = (await http.get(url, params={"PageSize": 2})).json()

    assert set(page) == {
        "end",
        "first_page_uri",
        "messages",
        "next_page_uri",
        "page",
        "page_size",
        "previous_page_uri",
        "start",
        "uri",
    }
    assert (page["page"], page["page_size"], page["start"], page["end"]) == (0, 2, 0, 1)
    assert page["next_page_uri"].startswith(f"/2010-04-01/Accounts/{sandbox.account_sid}/Messages.json?")
    assert "PageToken=PASM" in page["next_page_uri"]
    assert page["previous_page_uri"] is None


async def test_wrong_credentials_are_401_with_code_20003(sandbox: SmsSandbox) -> None:
    http_client = SandboxHttpClient(sandbox.base_url)
    client = Client(sandbox.account_sid, "not-the-token", http_client=http_client)
    try:
        with pytest.raises(TwilioRestException) as raised:
            await client.messages.create_async(to=VOLUNTEER, from_=sandbox.from_number, body="SOS")
    finally:
        await http_client.close()

    assert (raised.value.status, raised.value.code) == (401, 20003)
    assert sandbox.messages() == []
    [attempt] = sandbox.create_attempts()
    assert (attempt.answered_status, attempt.error_code) == (401, 20003)


@pytest.mark.parametrize(
    ("outcome", "code"),
    [(Outcome.invalid_number(), INVALID_TO_NUMBER), (Outcome.landline(), NOT_MOBILE_NUMBER)],
    ids=["21211-invalid", "21614-landline"],
)
async def test_scripted_rejections_are_400_and_store_nothing(
    twilio: Client, sandbox: SmsSandbox, outcome: Outcome, code: int
) -> None:
    sandbox.outcomes.set(VOLUNTEER, outcome)

    with pytest.raises(TwilioRestException) as raised:
        await twilio.messages.create_async(to=VOLUNTEER, from_=sandbox.from_number, body="SOS")

    assert (raised.value.status, raised.value.code) == (400, code)
    assert VOLUNTEER in raised.value.msg
    assert sandbox.messages() == []
    await sandbox.idle()
    assert sandbox.webhooks() == []


async def test_a_number_that_is_no_number_is_21211(twilio: Client, sandbox: SmsSandbox) -> None:
    with pytest.raises(TwilioRestException) as raised:
        await twilio.messages.create_async(to="not a number", from_=sandbox.from_number, body="SOS")
    assert (raised.value.status, raised.value.code) == (400, INVALID_TO_NUMBER)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"From": "+15005550006", "Body": "x"}, 21604),
        ({"To": VOLUNTEER, "Body": "x"}, 21603),
        ({"To": VOLUNTEER, "From": "+15005550006"}, 21602),
        ({"To": VOLUNTEER, "From": "+15005550006", "Body": "x" * 1601}, 21617),
    ],
    ids=["no-to", "no-from", "no-body", "body-too-long"],
)
async def test_missing_or_bad_fields_are_twilio_400s(sandbox: SmsSandbox, fields: dict[str, str], code: int) -> None:
    async with httpx.AsyncClient(auth=(sandbox.account_sid, sandbox.auth_token)) as http:
        response = await http.post(
            f"{sandbox.base_url}/2010-04-01/Accounts/{sandbox.account_sid}/Messages.json", data=fields
        )
    assert response.status_code == 400
    assert response.json() == {
        "code": code,
        "message": response.json()["message"],
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": 400,
    }


async def test_a_messaging_service_message_starts_accepted(twilio: Client, sandbox: SmsSandbox) -> None:
    service = "MG" + "1" * 32
    message = await twilio.messages.create_async(to=VOLUNTEER, messaging_service_sid=service, body="SOS")

    assert message.status == "accepted"
    assert message.messaging_service_sid == service
    assert message.num_segments == "0"  # as Twilio: no sender picked yet


async def test_unknown_api_paths_answer_in_twilios_shape(sandbox: SmsSandbox) -> None:
    async with httpx.AsyncClient(auth=(sandbox.account_sid, sandbox.auth_token)) as http:
        response = await http.get(f"{sandbox.base_url}/2010-04-01/Accounts/{sandbox.account_sid}/Queues.json")
    assert response.status_code == 404
    assert response.json()["code"] == 20404

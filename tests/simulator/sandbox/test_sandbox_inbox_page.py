"""The inbox page people watch during a demo."""

from __future__ import annotations

import httpx
from twilio.rest import Client

from simulator.sandbox import Outcome, SmsSandbox

VOLUNTEER = "+8613900000001"


async def test_the_page_lists_phones_scripts_inboxes_and_replies_escaped(twilio: Client, sandbox: SmsSandbox) -> None:
    sandbox.phone(VOLUNTEER).replies_with("收到 <b>ok</b>", delay=0.5, pattern="SOS", times=1)
    sandbox.outcomes.set("+8613900000002", Outcome.undelivered(30006))
    await twilio.messages.create_async(
        to=VOLUNTEER, from_=sandbox.from_number, body="SOS 王秀英 <script>alert('x')</script>"
    )
    await twilio.messages.create_async(to="+8613900000002", from_=sandbox.from_number, body="newer")
    await sandbox.phone(VOLUNTEER).wait_for_replies(1)
    await sandbox.idle()

    async with httpx.AsyncClient() as http:
        response = await http.get(sandbox.page_url)

    page = response.text
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "王秀英" in page
    assert "收到 &lt;b&gt;ok&lt;/b&gt;" in page and "<b>ok</b>" not in page
    assert "after 0.5 s" in page and "/SOS/" in page and "first 1 time" in page
    assert VOLUNTEER in page and "+8613900000002" in page
    assert "undelivered" in page and "30006" in page
    assert 'http-equiv="refresh"' in page
    assert page.index('id="phone-+8613900000001"') < page.index('id="phone-+8613900000002"')


async def test_the_inbox_shows_the_newest_message_first(twilio: Client, sandbox: SmsSandbox) -> None:
    for body in ("older message", "newer message"):
        await twilio.messages.create_async(to=VOLUNTEER, from_=sandbox.from_number, body=body)

    async with httpx.AsyncClient() as http:
        page = (await http.get(sandbox.page_url)).text

    assert page.index("newer message") < page.index("older message")

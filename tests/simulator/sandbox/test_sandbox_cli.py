"""``callwatch-sim sandbox`` as a separate process: starts, answers, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from simulator.sandbox import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

from .testkit import WebhookReceiver

CLI = Path(sys.executable).with_name("callwatch-sim")
STARTUP_TIMEOUT_S = 20.0


@asynccontextmanager
async def running_cli(*args: str) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """The CLI started with ``args``; yields the process and the API base URL it printed."""
    process = await asyncio.create_subprocess_exec(
        str(CLI), "sandbox", "--port", "0", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(STARTUP_TIMEOUT_S):
            first_line = (await process.stdout.readline()).decode()
        found = re.search(r"http://127\.0\.0\.1:\d+", first_line)
        assert found, f"no base URL in {first_line!r}"
        yield process, found.group(0)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


@pytest.mark.skipif(not CLI.exists(), reason="the callwatch-sim console script is not installed")
async def test_the_cli_serves_the_sandbox_and_stops_cleanly_on_sigterm(receiver: WebhookReceiver) -> None:
    async with running_cli("--inbound-url", f"{receiver.base_url}/twilio/sms") as (process, base_url):
        async with httpx.AsyncClient(base_url=base_url) as http:
            page = await http.get("/")
            state = await http.get("/sandbox/state")
            reply = await http.post(f"/sandbox/phones/{quote('+8613900000001', safe='')}/reply", json={"body": "ACK"})
            created = await http.post(
                f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages.json",
                data={"To": "+8613900000001", "From": "+15005550006", "Body": "SOS"},
                auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN),
            )

        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            stdout, stderr = await process.communicate()

    assert page.status_code == 200 and "phone sandbox" in page.text
    assert state.json()["settings"]["inbound_url"] == f"{receiver.base_url}/twilio/sms"
    assert reply.json() == {"status": 200}
    assert receiver.at("/twilio/sms")[0].valid
    assert created.status_code == 201
    assert process.returncode == 0, stderr.decode()
    assert "Inbox page at" in stdout.decode() and "stopped" in stdout.decode()


@pytest.mark.skipif(not CLI.exists(), reason="the callwatch-sim console script is not installed")
async def test_the_cli_stops_cleanly_on_sigint() -> None:
    async with running_cli() as (process, _):
        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(10):
            await process.wait()

    assert process.returncode == 0

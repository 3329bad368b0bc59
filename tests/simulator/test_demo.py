"""`callwatch demo --fast` starts everything, shows an alert escalated and acknowledged, and
stops cleanly on Ctrl-C (SIGINT), all within the test: with the SMS sandbox as Twilio, as Alibaba
Cloud (approved templates, the reply pushed as SmsUp), and through a GSM modem (gammu-smsd on
Gammu's dummy phone, the reply put into its inbox)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from tests.support.broker import free_port

REPO = Path(__file__).resolve().parents[2]
WITHIN_S = 60.0


async def read_until(stream: asyncio.StreamReader, wanted: list[str], seen: list[str], deadline: float) -> None:
    """Read lines into ``seen`` until every text in ``wanted`` appeared in one of them."""
    missing = list(wanted)
    while missing:
        line = await asyncio.wait_for(stream.readline(), timeout=max(0.1, deadline - time.monotonic()))
        if not line:
            raise AssertionError("the demo ended early:\n" + "".join(seen))
        text = line.decode(errors="replace")
        seen.append(text)
        missing = [item for item in missing if item not in text]


async def run_demo_until_acknowledged(*provider: str) -> str:
    """Run `callwatch demo --fast [--provider X]` until the fall is taken, then Ctrl-C; its output."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor",
        "demo",
        "--fast",
        "--port",
        str(port),
        *provider,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + WITHIN_S
    try:
        await read_until(process.stdout, [f"http://127.0.0.1:{port}/", "Ctrl-C stops everything"], seen, deadline)
        await read_until(process.stdout, ["FALL DETECTED 陈桂英 — escalated"], seen, deadline)
        await read_until(process.stdout, ["FALL DETECTED 陈桂英 — acknowledged by volunteer:v-09"], seen, deadline)
        process.send_signal(signal.SIGINT)
        rest, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output = "".join(seen) + rest.decode(errors="replace")
    assert process.returncode == 0, output
    assert "demo stopped cleanly" in output
    assert "Traceback" not in output
    return output


async def test_demo_escalates_acknowledges_and_stops_cleanly_on_ctrl_c() -> None:
    output = await run_demo_until_acknowledged()
    assert "SMS sandbox" in output


async def test_demo_through_alibaba_cloud_templates_and_an_smsup_reply() -> None:
    output = await run_demo_until_acknowledged("--provider", "aliyun")
    assert "(every volunteer's phone and inbox as Alibaba Cloud)" in output


async def test_demo_through_a_gsm_modem_on_gammu_s_dummy_phone() -> None:
    output = await run_demo_until_acknowledged("--provider", "modem")
    assert "gammu-smsd on Gammu's dummy phone" in output

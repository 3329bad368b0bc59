"""Button press → SMS request at the sandbox: how long a resident's press takes to become an SMS.

One run measures, on a private Mosquitto:
  1. the broker's own publish → subscriber round trip (the floor for anything over MQTT);
  2. a bare forwarder (MQTT straight to the SMS API through the twilio client, no database);
  3. the real monitor (`callwatch run` in its own process: commit before acknowledge, the
     escalation step, the SMS outbox), on SQLite, and on PostgreSQL when
     CALLWATCH_TEST_POSTGRES_URL is set;
  4. the same monitor sending through Alibaba Cloud's SMS API (the official SDK, a template and
     its parameters, signed) instead of Twilio's, on SQLite.
Presses come from distinct devices, one at a time, so the figures are latency, not queueing.

    python -m bench.latency [--presses 300] [--gap-ms 20]
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiomqtt

from bench.harness import REPO, BenchMonitor, command_line, machine, progress, summary
from simulator.directory_entries import directory_file, entry
from simulator.harness.mosquitto import Mosquitto
from simulator.harness.postgres import fresh_database, postgres_url
from simulator.load.directory import pressing_residents
from simulator.sandbox import SmsSandbox

TARGET_P99_MS = 15.0
BACKEND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


async def broker_round_trip(broker: Mosquitto, count: int, gap_s: float) -> list[float]:
    arrived: dict[str, float] = {}
    ready = asyncio.Event()

    async with (
        aiomqtt.Client(broker.host, broker.port) as subscriber,
        aiomqtt.Client(broker.host, broker.port) as publisher,
    ):
        await subscriber.subscribe("bench/rtt/#", qos=1)

        async def listen() -> None:
            async for message in subscriber.messages:
                arrived[message.topic.value] = time.monotonic()
                if len(arrived) == count:
                    ready.set()

        listener = asyncio.create_task(listen())
        samples = []
        sent: dict[str, float] = {}
        for index in range(count):
            topic = f"bench/rtt/{index}"
            sent[topic] = time.monotonic()
            await publisher.publish(topic, b'{"type":"sos"}', qos=1)
            await asyncio.sleep(gap_s)
            progress("broker round trip", index + 1, count)
        await asyncio.wait_for(ready.wait(), timeout=30)
        listener.cancel()
        samples = [(arrived[topic] - sent[topic]) * 1000 for topic in sent]
    return samples


async def press_to_sms(
    broker: Mosquitto, sandbox: SmsSandbox, devices: list[str], gap_s: float, label: str
) -> list[float]:
    """Press each device once; the time from publish to the SMS request arriving at the sandbox."""
    sandbox.reset()
    pressed: dict[str, float] = {}
    async with aiomqtt.Client(broker.host, broker.port) as device_side:
        for index, device in enumerate(devices):
            pressed[device] = time.monotonic()
            await device_side.publish(
                f"callwatch/{device}/event", json.dumps({"type": "sos", "id": uuid.uuid4().hex}), qos=1
            )
            await sandbox.wait_for_messages(index + 1, timeout=30)
            await sandbox.idle()  # delivery reports done: each press meets an idle system
            await asyncio.sleep(gap_s)
            progress(label, index + 1, len(devices))
    samples = []
    for message in sandbox.messages():
        device = pressed_device(message.body)
        if device in pressed:
            samples.append((message.arrived_monotonic - pressed[device]) * 1000)
    return samples


def pressed_device(body: str) -> str:
    """The pressing device an ask names (``btn-...``: the residents' names hold their device's id,
    ASCII letters, digits and inner hyphens: ``btn-12``, ``btn-q0000``, ``btn-m2-0001``), whatever
    Chinese text or punctuation follows it."""
    found = re.search(r"btn-[A-Za-z0-9_-]*[A-Za-z0-9_]", body)
    return found.group(0) if found else ""


def directory(devices: list[str]) -> str:
    """One area, a resident per pressing device, one volunteer, one tier."""
    return directory_file(
        entry("areas", id="a", name="Bench"),
        *pressing_residents(devices, "a"),
        entry("volunteers", id="v", name="Bench Volunteer", phone="+8613900000001", areas=["a"]),
        entry("policies", id="default", tiers=[{"notify": ["area"], "ack_timeout_s": 3600}]),
    )


async def with_process(
    start: Callable[[], Awaitable[subprocess.Popen[bytes]]], measure: Callable[[], Awaitable[list[float]]]
) -> list[float]:
    process = await start()
    try:
        return await measure()
    finally:
        process.terminate()
        process.wait(timeout=30)


async def start_forwarder(broker: Mosquitto, sandbox: SmsSandbox) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(  # noqa: ASYNC220 - started once, before anything is measured
        [sys.executable, "-m", "bench.bare_forwarder", broker.host, str(broker.port), sandbox.base_url],
        cwd=REPO,
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    await asyncio.to_thread(process.stdout.readline)
    return process


async def measure(presses: int, gap_ms: float) -> list[dict[str, float | str | int]]:
    gap_s = gap_ms / 1000
    devices = [f"btn-{index:05d}" for index in range(presses)]
    results = []
    with tempfile.TemporaryDirectory(prefix="callwatch-bench-") as scratch:
        folder = Path(scratch)
        async with Mosquitto(folder / "mosquitto") as broker, SmsSandbox(status_step_delay=0.0) as sandbox:
            results.append(summary("broker publish → subscriber", await broker_round_trip(broker, presses, gap_s)))
            bare = await with_process(
                lambda: start_forwarder(broker, sandbox),
                lambda: press_to_sms(broker, sandbox, devices, gap_s, "bare forwarder"),
            )
            results.append(summary("bare forwarder (no database)", bare))
            backends = ["sqlite", "postgresql"] if postgres_url() else ["sqlite"]
            for backend in backends:
                run_folder = folder / backend
                run_folder.mkdir()
                label = BACKEND_NAMES[backend]
                (run_folder / "directory.toml").write_text(directory(devices))
                async with (
                    fresh_database(backend, run_folder, prefix="cw_bench") as url,
                    BenchMonitor(
                        run_folder, broker, sandbox, database_url=url, directory=run_folder / "directory.toml"
                    ),
                ):
                    samples = await press_to_sms(broker, sandbox, devices, gap_s, f"callwatch on {label}")
                results.append(summary(f"callwatch monitor, {label}", samples))
            run_folder = folder / "aliyun"
            run_folder.mkdir()
            (run_folder / "directory.toml").write_text(directory(devices))
            async with (
                fresh_database("sqlite", run_folder, prefix="cw_bench") as url,
                BenchMonitor(
                    run_folder,
                    broker,
                    sandbox,
                    database_url=url,
                    directory=run_folder / "directory.toml",
                    provider="aliyun",
                ),
            ):
                samples = await press_to_sms(broker, sandbox, devices, gap_s, "callwatch via Alibaba Cloud")
            results.append(summary("callwatch monitor, SQLite, aliyun", samples))
    return results


def print_table(results: list[dict[str, float | str | int]], presses: int) -> None:
    print(f"\nPress → SMS request at the sandbox, {presses} presses from distinct devices, one at a time")
    print(f"machine: {machine()}")
    print(f"{'path':<34} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for row in results:
        print(
            f"{row['name']!s:<34} {row['n']:>5} {row['p50']:>8.2f} {row['p95']:>8.2f} {row['p99']:>8.2f} "
            f"{row['max']:>8.2f}"
        )
    monitors = [row for row in results if str(row["name"]).startswith("callwatch")]
    for row in monitors:
        verdict = "meets" if float(row["p99"]) < TARGET_P99_MS else "MISSES"
        print(f"{row['name']}: p99 {float(row['p99']):.2f} ms {verdict} the {TARGET_P99_MS:.0f} ms target")


async def main(presses: int, gap_ms: float) -> None:
    print_table(await measure(presses, gap_ms), presses)


if __name__ == "__main__":
    command_line(main, __doc__, presses=300, gap_ms=20.0)

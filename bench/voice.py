"""Calls: how fast a press becomes a call request, and how a storm of calls keeps to the account's rate.

Two parts, each on `callwatch run` with a private Mosquitto and the phone sandbox (SQLite):

  1. latency: presses one at a time from distinct devices, a tier with channels = ["sms",
     "voice"]; per press, publish → SMS request and publish → call request at the sandbox,
     p50/p95/p99 (the SMS figure is the baseline, in the same run; goal: the call's p99 within
     5 ms of the SMS's). Calls are paced at 100 a second here, as SMS are at 1000 (no provider limit).
  2. storm: non-urgent alerts (a geofence each) and then SOS presses, all at once, at
     [voice] calls_per_s = 1 (Twilio's default): every call must be placed exactly once, the
     SOS calls before every non-urgent call still waiting, one a second. The order and the
     spacing are printed.

    python -m bench.voice [--presses 200] [--gap-ms 20] [--sos 100] [--geofences 10]

Exit 1 when a call is missing or placed twice, or an SOS call waited behind a non-urgent one.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
import uuid
from itertools import pairwise
from pathlib import Path

import aiomqtt

from bench.harness import BenchFailure, BenchMonitor, command_line, machine, progress, summary, verdict
from simulator.directory_entries import directory_file, entry
from simulator.harness.mosquitto import Mosquitto
from simulator.load.directory import pressing_residents
from simulator.sandbox import CallScript, SmsSandbox

SOS_PHONE = "+8613900000001"
GEOFENCE_PHONE = "+8613900000002"
GOAL_WITHIN_MS = 5.0
#: where the geofence residents' safe zone is, and a place well outside it
HOME, AWAY = (30.2741, 120.1551), (30.3100, 120.2000)


def calling_monitor(
    folder: Path, broker: Mosquitto, sandbox: SmsSandbox, directory: Path, *, calls_per_s: float
) -> BenchMonitor:
    """`callwatch run` on SQLite in ``folder``, calling at ``calls_per_s``."""
    return BenchMonitor(
        folder,
        broker,
        sandbox,
        database_url=f"sqlite+aiosqlite:///{folder / 'callwatch.db'}",
        directory=directory,
        extra_config=f"[voice]\nenabled = true\ncalls_per_s = {calls_per_s}\nring_timeout_s = 5\n",
    )


def latency_directory(devices: list[str]) -> str:
    return directory_file(
        entry("areas", id="a", name="Bench"),
        *pressing_residents(devices, "a"),
        entry("volunteers", id="v", name="Bench Volunteer", phone=SOS_PHONE, areas=["a"]),
        entry(
            "policies", id="default", tiers=[{"notify": ["area"], "ack_timeout_s": 3600, "channels": ["sms", "voice"]}]
        ),
    )


def storm_directory(sos: list[str], trackers: list[str]) -> str:
    """SOS buttons in area a (their volunteer: SOS_PHONE), GPS phones with a safe zone in area g
    (their volunteer: GEOFENCE_PHONE); every tier texts and calls."""
    zone = {"lat": HOME[0], "lon": HOME[1], "radius_m": 200}
    gps = [
        entry("residents", id=f"r-{tracker}", name=tracker, address="2 Bench Road", area="g", safe_zone=zone)
        + entry("devices", id=tracker, resident=f"r-{tracker}", kind="gps_phone", protocol="native")
        for tracker in trackers
    ]
    return directory_file(
        entry("areas", id="a", name="Bench"),
        entry("areas", id="g", name="Bench Walkers"),
        *pressing_residents(sos, "a"),
        *gps,
        entry("volunteers", id="v", name="Bench Volunteer", phone=SOS_PHONE, areas=["a"]),
        entry("volunteers", id="w", name="Walk Volunteer", phone=GEOFENCE_PHONE, areas=["g"]),
        entry(
            "policies", id="default", tiers=[{"notify": ["area"], "ack_timeout_s": 3600, "channels": ["sms", "voice"]}]
        ),
    )


def written(folder: Path, directory: str) -> Path:
    """``directory`` as the file ``directory.toml`` in ``folder`` (made if need be)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "directory.toml"
    path.write_text(directory, encoding="utf-8")
    return path


def call_requests(sandbox: SmsSandbox) -> list[float]:
    """When each call request arrived (a message's request carries a body, a call's does not)."""
    return [attempt.arrived_monotonic for attempt in sandbox.create_attempts() if attempt.body is None]


def sms_requests(sandbox: SmsSandbox) -> list[float]:
    return [attempt.arrived_monotonic for attempt in sandbox.create_attempts() if attempt.body is not None]


async def latency(folder: Path, broker: Mosquitto, presses: int, gap_s: float) -> tuple[list[float], list[float]]:
    """Per press: publish → SMS request, publish → call request (ms)."""
    devices = [f"btn-{index:05d}" for index in range(presses)]
    directory = written(folder, latency_directory(devices))
    sms_ms: list[float] = []
    call_ms: list[float] = []
    async with SmsSandbox(status_step_delay=0.0) as sandbox:
        sandbox.script_calls(SOS_PHONE, CallScript.busy())  # over at once: each press meets an idle system
        async with (
            calling_monitor(folder, broker, sandbox, directory, calls_per_s=100),
            aiomqtt.Client(broker.host, broker.port) as device,
        ):
            for index, button in enumerate(devices):
                pressed = time.monotonic()
                await device.publish(
                    f"callwatch/{button}/event", json.dumps({"type": "sos", "id": uuid.uuid4().hex}), qos=1
                )
                await sandbox.wait_for_create_attempts(2 * (index + 1), timeout=30)
                sms_ms.append((sms_requests(sandbox)[index] - pressed) * 1000)
                call_ms.append((call_requests(sandbox)[index] - pressed) * 1000)
                await sandbox.wait_for_calls(index + 1, ended=True, timeout=30)
                await sandbox.idle()
                await asyncio.sleep(gap_s)
                progress("press → SMS and call", index + 1, presses)
    return sms_ms, call_ms


async def storm(folder: Path, broker: Mosquitto, sos: int, geofences: int) -> list[tuple[str, float]]:
    """Geofences, then SOS presses, all at once; each call request in order: (whose, when)."""
    buttons = [f"btn-{index:05d}" for index in range(sos)]
    trackers = [f"gps-{index:03d}" for index in range(geofences)]
    directory = written(folder, storm_directory(buttons, trackers))
    async with SmsSandbox(status_step_delay=0.0) as sandbox:
        for phone in (SOS_PHONE, GEOFENCE_PHONE):
            sandbox.script_calls(phone, CallScript.busy())
        async with (
            calling_monitor(folder, broker, sandbox, directory, calls_per_s=1),
            aiomqtt.Client(broker.host, broker.port) as devices,
        ):
            for tracker in trackers:  # at home first: a position inside the zone
                await devices.publish(f"callwatch/{tracker}/event", location(HOME), qos=1)
            for tracker in trackers:
                await devices.publish(f"callwatch/{tracker}/event", location(AWAY), qos=1)
            await sandbox.wait_for_create_attempts(1, timeout=30)  # the first geofence ask is out
            for button in buttons:
                await devices.publish(
                    f"callwatch/{button}/event", json.dumps({"type": "sos", "id": uuid.uuid4().hex}), qos=1
                )
            expected = sos + geofences
            for placed in range(1, expected + 1):
                await sandbox.wait_for_calls(placed, timeout=30)
                progress("calls placed at 1 a second", placed, expected)
            await asyncio.sleep(3)  # anything placed twice would come now
            calls = sandbox.calls()
    return [("sos" if call.to == SOS_PHONE else "geofence", call.arrived_monotonic) for call in calls]


def location(where: tuple[float, float]) -> str:
    return json.dumps({"type": "location", "id": uuid.uuid4().hex, "lat": where[0], "lon": where[1], "acc": 10})


def storm_report(calls: list[tuple[str, float]], sos: int, geofences: int) -> list[str]:
    """The order and spacing of the storm's calls, and what was wrong with them."""
    order = "".join("S" if whose == "sos" else "g" for whose, _ in calls)
    gaps = [later - earlier for (_, earlier), (_, later) in pairwise(calls)]
    print(f"\nCall storm: {geofences} geofence alerts, then {sos} SOS presses at once, calls_per_s = 1")
    print(f"order (g = geofence, S = SOS): {order}")
    if gaps:
        print(
            f"spacing: min {min(gaps):.3f} s, mean {statistics.fmean(gaps):.3f} s, max {max(gaps):.3f} s "
            f"over {len(gaps)} gaps; {len(calls)} calls in {calls[-1][1] - calls[0][1]:.1f} s"
        )
    problems = []
    counts = {"sos": order.count("S"), "geofence": order.count("g")}
    if counts != {"sos": sos, "geofence": geofences}:
        problems.append(f"calls placed {counts}, expected {sos} SOS and {geofences} geofence, each once")
    first_sos, last_sos = order.find("S"), order.rfind("S")
    overtaken = order[first_sos:last_sos].count("g") if first_sos >= 0 else 0
    if overtaken:
        problems.append(f"{overtaken} geofence calls went between SOS calls")
    too_close = [gap for gap in gaps if gap < 0.9]
    if too_close:
        problems.append(f"{len(too_close)} calls less than 0.9 s after the one before (rate 1/s)")
    return problems


async def main(presses: int, gap_ms: float, sos: int, geofences: int) -> None:
    with tempfile.TemporaryDirectory(prefix="callwatch-bench-voice-") as scratch:
        folder = Path(scratch)
        async with Mosquitto(folder / "mosquitto") as broker:
            sms_ms, call_ms = await latency(folder / "latency", broker, presses, gap_ms / 1000)
            calls = await storm(folder / "storm", broker, sos, geofences)
    print(f"\nPress → request at the sandbox, {presses} presses from distinct devices, one at a time (SQLite)")
    print(f"machine: {machine()}")
    print(f"{'request':<22} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    rows = [summary("SMS (baseline)", sms_ms), summary("call", call_ms)]
    for row in rows:
        print(
            f"{row['name']!s:<22} {row['n']:>5} {row['p50']:>8.2f} {row['p95']:>8.2f} {row['p99']:>8.2f} "
            f"{row['max']:>8.2f}"
        )
    apart = float(rows[1]["p99"]) - float(rows[0]["p99"])
    print(f"call p99 − SMS p99: {apart:+.2f} ms: {verdict(f'within {GOAL_WITHIN_MS:g} ms', apart <= GOAL_WITHIN_MS)}")
    problems = storm_report(calls, sos, geofences)
    for problem in problems:
        print(f"PROBLEM: {problem}")
    if problems:
        raise BenchFailure("; ".join(problems))
    print("every call placed once, no SOS call behind a geofence call, one a second")


if __name__ == "__main__":
    command_line(main, __doc__, presses=200, gap_ms=20.0, sos=100, geofences=10)

"""The load generator: many simulated devices over a few MQTT connections, at a steady rate.

Background messages (heartbeats and locations, native protocol) are spread round-robin over
the devices and the connections and paced in 10 ms ticks; SOS presses are mixed in at their
own rate, each from another device with a new event id. The monitor's answer to each press
is read from the devices' feedback topics (state "received"), which gives the press ->
confirmation latency as a device would see it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from contextlib import AsyncExitStack

from simulator.load.plan import LoadPlan
from simulator.load.report import LoadReport
from simulator.mqtt_link import BrokerAddress, MqttLink

TICK_S = 0.01
SETTLE_S = 15.0
FEEDBACK_FILTER = "callwatch/+/feedback"
Progress = Callable[[str], None]


class LoadGenerator:
    def __init__(
        self,
        address: BrokerAddress,
        plan: LoadPlan,
        *,
        progress: Progress | None = None,
        progress_every_s: float = 5.0,
        tag: str | None = None,
        settle_s: float = SETTLE_S,
    ) -> None:
        self.address = address
        self.plan = plan
        self.progress = progress
        self.progress_every_s = progress_every_s
        self.settle_s = settle_s
        #: tells this run's event ids from any earlier run's
        self.tag = tag or format(time.time_ns() // 1_000_000, "x")
        self.report = LoadReport()
        self._pressed: dict[str, float] = {}
        self._all_confirmed = asyncio.Event()
        self._stop = asyncio.Event()

    def stop(self) -> None:
        """End the run early (Ctrl-C): the report covers what was sent."""
        self._stop.set()

    async def run(self) -> LoadReport:
        async with AsyncExitStack() as stack:
            if self.plan.sos_rate > 0:
                feedback = await stack.enter_async_context(
                    MqttLink(self.address, f"callwatch-sim-load-{self.tag}-feedback", on_message=self._on_feedback)
                )
                await feedback.subscribe(FEEDBACK_FILTER)
            links = [
                await stack.enter_async_context(MqttLink(self.address, f"callwatch-sim-load-{self.tag}-{number}"))
                for number in range(self.plan.connections)
            ]
            await self._send(links)
            await self._settle(links)
            self.report.broker_confirmed = sum(link.confirmed for link in links)
        return self.report

    async def _send(self, links: list[MqttLink]) -> None:
        plan, report = self.plan, self.report
        loop = asyncio.get_running_loop()
        started = loop.time()
        next_progress = started + self.progress_every_s
        sent = 0
        while not self._stop.is_set():
            now = loop.time()
            elapsed = now - started
            if elapsed >= plan.duration_s:
                break
            if sum(link.unconfirmed for link in links) > plan.window:
                report.stalled_s += TICK_S
            else:
                due = int(plan.rate * elapsed) - sent
                for _ in range(due):
                    self._background(links[sent % len(links)], sent)
                    sent += 1
                while report.sos_sent < int(plan.sos_rate * elapsed):
                    self._press(links[report.sos_sent % len(links)])
            if now >= next_progress and self.progress is not None:
                self.progress(self._progress_line(elapsed, links))
                next_progress += self.progress_every_s
            await asyncio.sleep(TICK_S)
        report.elapsed_s = loop.time() - started

    def _background(self, link: MqttLink, number: int) -> None:
        plan = self.plan
        device = plan.device_id(number)
        # every k-th message is a location, k spread evenly by the share
        is_location = plan.location_share > 0 and int(number * plan.location_share) != int(
            (number - 1) * plan.location_share
        )
        if is_location:
            lat, lon = 30.27 + (number % 1000) * 1e-5, 120.15 + (number % 997) * 1e-5
            payload = f'{{"type":"location","lat":{lat:.6f},"lon":{lon:.6f},"acc":12,"seq":{number}}}'
            self.report.locations += 1
        else:
            payload = f'{{"type":"heartbeat","battery":{90 - number % 50},"seq":{number}}}'
            self.report.heartbeats += 1
        link.publish_nowait(f"callwatch/{device}/event", payload.encode())

    def _press(self, link: MqttLink) -> None:
        count = self.report.sos_sent
        # a different device each time, spread over the whole range
        device = self.plan.device_id(count * 7919)
        event_id = f"{self.tag}-sos-{count}"
        self._pressed[event_id] = time.monotonic()
        self._all_confirmed.clear()  # set when the earlier presses were all confirmed: not any more
        link.publish_nowait(f"callwatch/{device}/event", json.dumps({"type": "sos", "id": event_id}).encode())
        self.report.sos_sent += 1

    def _on_feedback(self, topic: str, payload: bytes, retained: bool) -> None:
        try:
            body = json.loads(payload)
        except ValueError:
            return
        if not isinstance(body, dict) or body.get("state") != "received":
            return
        pressed = self._pressed.pop(str(body.get("event_id")), None)
        if pressed is None:
            return
        self.report.latencies_ms.append((time.monotonic() - pressed) * 1000)
        self.report.sos_confirmed += 1
        if not self._pressed:
            self._all_confirmed.set()

    async def _settle(self, links: list[MqttLink]) -> None:
        """Wait (a while) for the broker's confirmations and the monitor's answers to presses."""
        deadline = asyncio.get_running_loop().time() + self.settle_s
        # PUBACKs are counted on paho's threads: looking every 50 ms is simplest
        while any(link.unconfirmed for link in links) and asyncio.get_running_loop().time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        if self._pressed:
            remaining = max(0.0, deadline - asyncio.get_running_loop().time())
            with contextlib.suppress(TimeoutError):  # what never came is reported as missing
                await asyncio.wait_for(self._all_confirmed.wait(), remaining)

    def _progress_line(self, elapsed: float, links: list[MqttLink]) -> str:
        report = self.report
        sos = f", SOS {report.sos_sent:,} sent / {report.sos_confirmed:,} confirmed" if report.sos_sent else ""
        return (
            f"{elapsed:6.1f} s: {report.published:,} sent ({report.published / max(elapsed, 1e-9):,.0f}/s), "
            f"broker confirmed {sum(link.confirmed for link in links):,}{sos}"
        )

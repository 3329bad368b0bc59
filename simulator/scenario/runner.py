"""Running a scenario: every step at its time, on a fleet of simulated devices.

Steps run concurrently (a walk takes minutes while presses go on); a repeating step
(``every_s``) runs until its ``until``. ``speed`` compresses time for rehearsals and tests:
at speed 10, a step at 60 s runs after 6 s, and a walk's fixes come ten times as often.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from simulator.device import SimulatedDevice
from simulator.families import Fix, Publication, Unsupported
from simulator.fleet import Fleet
from simulator.route import Route
from simulator.scenario.model import Scenario, Step

Narrate = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class StepFailure:
    step: Step
    error: Exception


class ScenarioRun:
    def __init__(self, scenario: Scenario, fleet: Fleet, *, narrate: Narrate, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.scenario = scenario
        self.fleet = fleet
        self.narrate = narrate
        self.speed = speed
        self.failures: list[StepFailure] = []
        self._started = 0.0

    async def run(self) -> list[StepFailure]:
        """Run every step; the steps that failed (a device that cannot do what was asked)."""
        loop = asyncio.get_running_loop()
        if self.scenario.online_at_start:
            await asyncio.gather(*(self.fleet.come_online(device_id) for device_id in self.fleet.devices))
        self._started = loop.time()
        async with asyncio.TaskGroup() as steps:
            for step in self.scenario.steps:
                steps.create_task(self._run_step(step))
        return self.failures

    async def _run_step(self, step: Step) -> None:
        await self._sleep_until(step.at)
        repeats = step.every_s is not None and step.action != "walk"  # a walk's every_s is its pace
        moment, repetition = step.at, 0
        while True:
            try:
                await self._once(step, repetition)
            except (Unsupported, ConnectionError) as exc:
                self.failures.append(StepFailure(step, exc))
                self.narrate(f"step at {step.at:g}s ({step.action}) failed: {exc}")
                return
            if not repeats or step.every_s is None:
                return
            moment += step.every_s
            repetition += 1
            if step.until is not None and moment > step.until:
                return
            await self._sleep_until(moment)

    async def _once(self, step: Step, repetition: int) -> None:
        if step.action == "note":
            self.narrate(step.note)
            return
        if step.note:
            self.narrate(step.note)
        targets = [self.fleet.device(target) for target in step.targets]
        await asyncio.gather(*(self._act(step, device, repetition) for device in targets))

    async def _act(self, step: Step, device: SimulatedDevice, repetition: int) -> None:
        fleet = self.fleet
        if step.action == "online":
            await fleet.come_online(device.id)
        elif step.action == "offline":
            await fleet.drop(device.id)
        elif step.action == "press":
            await fleet.publish(device.id, device.press(step.meaning))
        elif step.action == "heartbeat":
            await fleet.publish(device.id, device.heartbeat())
        elif step.action == "battery":
            if step.battery is not None:
                level = step.battery - step.drain * repetition
            else:
                level = device.state.battery - step.drain
            await fleet.publish(device.id, device.battery_report(level))
        elif step.action == "location":
            assert step.lat is not None and step.lon is not None  # the model checked
            await fleet.publish(device.id, device.location(Fix(step.lat, step.lon, step.acc)))
        elif step.action == "region":
            assert step.region is not None
            await fleet.publish(device.id, device.region(step.region, step.transition))
        elif step.action == "walk":
            await self._walk(step, device)

    async def _walk(self, step: Step, device: SimulatedDevice) -> None:
        every_s = step.every_s or 10.0
        route = Route(step.route, step.speed_kmh, step.acc)
        for index, fix in enumerate(route.fixes(every_s)):
            if index:
                await asyncio.sleep(every_s / self.speed)
            publications: list[Publication] = device.location(fix)
            await self.fleet.publish(device.id, publications)

    async def _sleep_until(self, at_s: float) -> None:
        delay = self._started + at_s / self.speed - asyncio.get_running_loop().time()
        if delay > 0:
            await asyncio.sleep(delay)

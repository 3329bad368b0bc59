"""``callwatch-sim run SCENARIO``: play a scenario file against a broker (and a sandbox's phones)."""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from monitor.core.errors import ConfigError
from simulator.commands.common import CommandError, Subcommands, add_broker_option, broker_address, say, stop_signals
from simulator.fleet import Fleet
from simulator.scenario import RemoteSandboxScripts, ScenarioError, ScenarioRun, load_scenario
from simulator.scenario.fleet_of import scenario_devices


def register_scenario(subcommands: Subcommands) -> None:
    parser = subcommands.add_parser(
        "run",
        help="play a scenario file (timed steps across many devices)",
        description="Play a scenario: every device comes online, then each step at its time. Ctrl-C stops.",
    )
    parser.add_argument("scenario", type=Path, help="scenario file (TOML), e.g. simulator/scenarios/rehearsal.toml")
    add_broker_option(parser)
    parser.add_argument("--speed", type=float, default=1.0, help="time compression: 10 runs ten times as fast")
    parser.add_argument("--sandbox", help="SMS sandbox URL: give its phones the scenario's [[phones]] scripts")
    parser.set_defaults(run=run_scenario)


async def run_scenario(args: argparse.Namespace) -> int:
    try:
        scenario, directory = load_scenario(args.scenario)
        devices = scenario_devices(scenario, directory)
    except (ScenarioError, ConfigError) as exc:
        raise CommandError(str(exc)) from None
    if scenario.phones and args.sandbox:
        await RemoteSandboxScripts(args.sandbox).apply(scenario.phones)
        say(f"scripted {len(scenario.phones)} phones at {args.sandbox}")
    started = time.monotonic()

    def narrate(line: str) -> None:
        say(f"[{time.monotonic() - started:7.1f} s] {line}")

    say(f"{scenario.name}: {len(devices)} devices, {len(scenario.steps)} steps, about {scenario.duration_s:g} s")
    with stop_signals() as stop:
        async with Fleet(broker_address(args), devices, name="scenario") as fleet:
            run = ScenarioRun(scenario, fleet, narrate=narrate, speed=args.speed)
            playing = asyncio.create_task(run.run())
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({playing, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not playing.done():
                playing.cancel()
                say("stopped before the end")
                return 130
            failures = playing.result()
    say(f"done: {len(scenario.steps) - len(failures)} steps played, {len(failures)} failed")
    return 1 if failures else 0

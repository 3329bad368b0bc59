"""``callwatch-sim interactive``: type device actions at a prompt, see what goes over MQTT.

    sim> press btn-0001
    sim> offline btn-0002
    sim> walk phone-0003 30.2741,120.1551 30.2790,120.1610 every=2

Devices come from ``--directory``; a device not listed there is a native button.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex

from simulator.commands.common import (
    Subcommands,
    add_broker_option,
    add_device_options,
    broker_address,
    devices_from_args,
    say,
)
from simulator.device import SimulatedDevice
from simulator.device_commands import ACTIONS, ActionError, perform
from simulator.families import Unsupported
from simulator.fleet import Fleet
from simulator.roster import spec_for

PROMPT = "sim> "


def register_interactive(subcommands: Subcommands) -> None:
    parser = subcommands.add_parser(
        "interactive",
        help="type device actions at a prompt",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("devices", nargs="*", help="device ids to simulate (default: the directory's)")
    add_broker_option(parser)
    add_device_options(parser)
    parser.set_defaults(run=run_interactive)


def help_text() -> str:
    lines = ["actions (each followed by a device id):"]
    lines += [f"  {action.name} DEVICE {action.usage}".rstrip().ljust(58) + action.help for action in ACTIONS.values()]
    lines += ["  list".ljust(58) + "the simulated devices", "  quit".ljust(58) + "leave (Ctrl-D too)"]
    return "\n".join(lines)


async def run_interactive(args: argparse.Namespace) -> int:
    devices = devices_from_args(args, args.devices)
    async with Fleet(broker_address(args), devices, name="interactive") as fleet:
        say(f"connected to {fleet.address.url}; {len(fleet.devices)} devices. Type help for the actions.")
        while True:
            try:
                line = await asyncio.to_thread(input, PROMPT)
            except EOFError:
                break
            if not await handle(fleet, line):
                break
    return 0


async def handle(fleet: Fleet, line: str) -> bool:
    """Carry out one typed line; False when the user wants to leave."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        say(f"cannot read that: {exc}")
        return True
    if not words:
        return True
    command, rest = words[0].lower(), words[1:]
    if command in ("quit", "exit"):
        return False
    if command == "help":
        say(help_text())
    elif command == "list":
        for device in fleet.devices.values():
            state = "connected" if fleet.is_connected(device.id) else "not connected"
            say(f"  {device.id:<20} {device.spec.protocol:<12} {device.spec.kind:<15} {device.spec.topic}  {state}")
    elif not rest:
        say(f"{command}: which device? (help lists the actions)")
    else:
        if rest[0] not in fleet.devices:
            fleet.add(SimulatedDevice(spec_for(rest[0])))
        try:
            await perform(fleet, rest[0], command, rest[1:], say)
        except (ActionError, Unsupported, ConnectionError) as exc:
            say(f"{command}: {exc}")
    return True

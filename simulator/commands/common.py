"""Options shared by the subcommands: where the broker is, which device is meant."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TypeAlias

from monitor.core.errors import ConfigError
from simulator.device import SimulatedDevice
from simulator.families import Fix
from simulator.mqtt_link import BrokerAddress
from simulator.roster import DEFAULT_FIX, load_roster, spec_for

# argparse has no public name for the object add_subparsers() returns.
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
BROKER_ENV = "CALLWATCH_SIM_BROKER"


class CommandError(Exception):
    """A mistake on the command line: printed as one sentence, exit code 2."""


def add_broker_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--broker",
        default=os.environ.get(BROKER_ENV, "mqtt://127.0.0.1:1883"),
        help=f"MQTT broker URL (default: ${BROKER_ENV} or %(default)s)",
    )


def broker_address(args: argparse.Namespace) -> BrokerAddress:
    try:
        return BrokerAddress.parse(args.broker)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def add_device_options(parser: argparse.ArgumentParser) -> None:
    found = parser.add_argument_group("which device (from a directory file, or described here)")
    found.add_argument("--directory", type=Path, help="directory file to find the device in (protocol, topic...)")
    found.add_argument("--protocol", default="native", help="device family (default: %(default)s)")
    found.add_argument("--kind", default="button", choices=["button", "gps_phone", "checkin_button"])
    found.add_argument("--topic", help="the device's base topic (default: the one the monitor derives)")
    found.add_argument("--serial", help="hardware id for families addressed by payload (Traccar uniqueId)")
    found.add_argument(
        "--map", action="append", default=[], metavar="ACTION=MEANING", help="press action map, e.g. long=cancel"
    )
    found.add_argument("--lat", type=float, help="starting position of a GPS device")
    found.add_argument("--lon", type=float)


def devices_from_args(args: argparse.Namespace, device_ids: list[str]) -> list[SimulatedDevice]:
    """The devices named, from ``--directory`` when given, else described by the options."""
    if args.directory is not None:
        try:
            roster = {device.id: device for device in load_roster(args.directory)}
        except ConfigError as exc:
            raise CommandError(str(exc)) from None
        missing = [device_id for device_id in device_ids if device_id not in roster]
        if missing:
            raise CommandError(f"{args.directory}: no device {', '.join(missing)} under [[devices]]")
        return [roster[device_id] for device_id in device_ids] if device_ids else list(roster.values())
    actions = {}
    for pair in args.map:
        action, equals, meaning = pair.partition("=")
        if not equals:
            raise CommandError(f"--map {pair!r}: write ACTION=MEANING, e.g. long=cancel")
        actions[action] = meaning
    fix = Fix(args.lat, args.lon) if args.lat is not None and args.lon is not None else None
    devices = []
    for device_id in device_ids:
        try:
            spec = spec_for(
                device_id, args.protocol, kind=args.kind, topic=args.topic, serial=args.serial, actions=actions
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        devices.append(SimulatedDevice(spec, fix=fix or (DEFAULT_FIX if args.kind == "gps_phone" else None)))
    return devices


def say(line: str) -> None:
    print(line, flush=True)


def warn(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@contextlib.contextmanager
def stop_signals() -> Iterator[asyncio.Event]:
    """An event set by SIGINT (Ctrl-C) or SIGTERM, caught from the moment the block starts."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        yield stop
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)

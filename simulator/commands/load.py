"""``callwatch-sim load``: N devices over a few connections at a total rate, SOS presses mixed in."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from simulator.commands.common import Subcommands, add_broker_option, broker_address, say, stop_signals, warn
from simulator.load import LoadGenerator, LoadPlan, write_directory
from simulator.load.plan import DEFAULT_PREFIX


def register_load(subcommands: Subcommands) -> None:
    parser = subcommands.add_parser(
        "load",
        help="simulate many devices at a total message rate, with SOS presses mixed in",
        description=(
            "Native devices <prefix>000000... send heartbeats and locations at --rate messages/s in total, "
            "over --connections MQTT connections, and SOS presses at --sos-rate. The monitor's feedback "
            "('received') gives each press's latency. Write the matching directory first with "
            "--write-directory and import it into the monitor."
        ),
    )
    add_broker_option(parser)
    parser.add_argument("--devices", type=int, default=1000, help="simulated devices (up to 1,000,000)")
    parser.add_argument("--rate", type=float, default=100.0, help="heartbeats and locations per second, in total")
    parser.add_argument("--sos-rate", type=float, default=0.0, help="SOS presses per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds (default: %(default)s)")
    parser.add_argument("--connections", type=int, default=4, help="MQTT connections shared by the devices")
    parser.add_argument("--location-share", type=float, default=0.3, help="share of locations among messages")
    parser.add_argument("--prefix", default=DEFAULT_PREFIX, help="device id prefix (default: %(default)s)")
    parser.add_argument("--progress-every", type=float, default=5.0, help="seconds between progress lines")
    parser.add_argument(
        "--write-directory", type=Path, metavar="FILE", help="write a directory file for these devices and exit"
    )
    parser.set_defaults(run=run_load)


async def run_load(args: argparse.Namespace) -> int:
    plan = LoadPlan(
        devices=args.devices,
        rate=args.rate,
        sos_rate=args.sos_rate,
        duration_s=args.duration,
        connections=args.connections,
        location_share=args.location_share,
        prefix=args.prefix,
    )
    if args.write_directory is not None:
        write_directory(args.write_directory, plan)
        say(f"wrote {args.write_directory}: {plan.devices:,} devices; import it with `callwatch import`")
        return 0
    generator = LoadGenerator(broker_address(args), plan, progress=warn, progress_every_s=args.progress_every)
    say(
        f"load: {plan.devices:,} devices, {plan.rate:,.0f} messages/s, {plan.sos_rate:g} SOS/s, "
        f"{plan.duration_s:g} s over {plan.connections} connections to {generator.address.url}"
    )
    with stop_signals() as stop:
        running = asyncio.create_task(generator.run())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not running.done():
            generator.stop()
        stopping.cancel()
        report = await running
    for line in report.lines():
        say(line)
    return 1 if report.sos_missing else 0

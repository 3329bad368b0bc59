"""One-off device actions: ``callwatch-sim press btn-0001``, ``offline``, ``walk``, ``battery``..."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Coroutine
from typing import Any

from simulator.commands.common import (
    CommandError,
    Subcommands,
    add_broker_option,
    add_device_options,
    broker_address,
    devices_from_args,
    say,
)
from simulator.device_commands import ACTIONS, ActionError, DeviceAction, perform
from simulator.families import Unsupported
from simulator.fleet import Fleet


def register_device_actions(subcommands: Subcommands) -> None:
    for action in ACTIONS.values():
        parser = subcommands.add_parser(action.name, help=action.help, description=action.help)
        parser.add_argument("device", help="device id")
        if action.usage:
            parser.add_argument("values", nargs="*", metavar=action.usage)
        add_broker_option(parser)
        add_device_options(parser)
        parser.set_defaults(run=_runner(action))


def _runner(action: DeviceAction) -> Callable[[argparse.Namespace], Coroutine[Any, Any, int]]:
    async def run(args: argparse.Namespace) -> int:
        [device] = devices_from_args(args, [args.device])
        try:
            async with Fleet(broker_address(args), [device]) as fleet:
                await perform(fleet, device.id, action.name, getattr(args, "values", []), say)
        except (ActionError, Unsupported, ConnectionError) as exc:
            raise CommandError(str(exc)) from None
        return 0

    return run

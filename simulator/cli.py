"""``callwatch-sim``: the simulator's command line.

Each subcommand is one ``register_*`` function that adds its parser and sets ``run`` to an
async function taking the parsed arguments and returning the exit code. To add one, write
both and append the register function to ``SUBCOMMANDS``.

    callwatch-sim press btn-0001 [--protocol native] [--broker mqtt://127.0.0.1:1883]
    callwatch-sim offline btn-0002 --directory config/directory.example.toml
    callwatch-sim run simulator/scenarios/rehearsal.toml --sandbox http://127.0.0.1:8025
    callwatch-sim interactive --directory config/directory.example.toml
    callwatch-sim load --devices 10000 --rate 2000 --sos-rate 1 --duration 60
    callwatch-sim sandbox
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeAlias

from simulator.commands.common import CommandError, Subcommands, stop_signals
from simulator.commands.device_actions import register_device_actions
from simulator.commands.interactive import register_interactive
from simulator.commands.load import register_load
from simulator.commands.scenario import register_scenario
from simulator.sandbox import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_FROM_NUMBER, SmsSandbox
from simulator.sandbox.settings import DEFAULT_STATUS_STEP_DELAY_S

RunFunction: TypeAlias = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


# -- callwatch-sim sandbox -----------------------------------------------------------------


async def run_sandbox(args: argparse.Namespace) -> int:
    sandbox = SmsSandbox(
        host=args.host,
        port=args.port,
        account_sid=args.account_sid,
        auth_token=args.auth_token,
        from_number=args.from_number,
        inbound_url=args.inbound_url,
        signing_url=args.signing_url,
        status_step_delay=args.status_delay,
    )
    with stop_signals() as stop:
        async with sandbox:
            print(f"SMS sandbox API at {sandbox.base_url}  (use as the Twilio API base URL)", flush=True)
            print(f"Inbox page at {sandbox.page_url}", flush=True)
            print(f"Account {sandbox.account_sid} / token {sandbox.auth_token} / number {sandbox.from_number}")
            print(f"Replies go to {args.inbound_url or 'nowhere yet (PATCH /sandbox/settings)'}", flush=True)
            await stop.wait()
    print("SMS sandbox stopped", flush=True)
    return 0


def register_sandbox(subcommands: Subcommands) -> None:
    parser = subcommands.add_parser(
        "sandbox",
        help="run the SMS sandbox (a local Twilio stand-in with simulated volunteers' phones)",
        description="Serve Twilio's Messages API, scripted phones and an inbox page until Ctrl-C or SIGTERM.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8025, help="port to listen on, 0 = any free (default: %(default)s)")
    parser.add_argument("--inbound-url", help="where phones' replies are POSTed: the monitor's /twilio/sms")
    parser.add_argument(
        "--signing-url",
        help="the URL replies are signed for: the public URL of the monitor's /twilio/sms (default: --inbound-url)",
    )
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID, help="default: %(default)s")
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN, help="default: %(default)s")
    parser.add_argument("--from-number", default=DEFAULT_FROM_NUMBER, help="default: %(default)s")
    parser.add_argument(
        "--status-delay",
        type=float,
        default=DEFAULT_STATUS_STEP_DELAY_S,
        help="seconds between status changes of a message (default: %(default)s)",
    )
    parser.set_defaults(run=run_sandbox)


# -- wiring ------------------------------------------------------------------------------

SUBCOMMANDS: list[Callable[[Subcommands], None]] = [
    register_device_actions,
    register_scenario,
    register_interactive,
    register_load,
    register_sandbox,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="callwatch-sim", description="callwatch's device and SMS simulator")
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in SUBCOMMANDS:
        register(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: RunFunction = args.run
    try:
        return asyncio.run(run(args))
    except CommandError as exc:
        print(f"callwatch-sim {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # a second Ctrl-C while shutting down
        print("interrupted", file=sys.stderr)
        return 130

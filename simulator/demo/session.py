"""`callwatch demo`: the whole product on one machine, nothing installed beforehand.

A private broker (Mosquitto when installed, else the embedded amqtt), SQLite in a temporary
folder, the SMS sandbox with scripted volunteers' phones, the monitor with its console, 20
simulated residents' devices of every family, and a scenario (``simulator/scenarios/demo.toml``):
an SOS taken within seconds, an SOS nobody answers (tier 2, then UNANSWERED), a fall with its
position taken by the area leader, a walk out of a safe zone, a device going offline, a
power cut grouped into one outage alert, a missed check-in. Everything the monitor writes to
its alert log is printed as it happens. Ctrl-C or SIGTERM stops it all cleanly.

``--provider`` picks how the SMS go: the sandbox speaking Twilio's API (the default), the
sandbox speaking Alibaba Cloud's (approved templates, replies pushed as SmsUp), or a GSM modem
(gammu-smsd on Gammu's dummy phone; the volunteers' replies are put into its inbox).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.config.settings import load_settings
from monitor.core.errors import UserError
from monitor.notify.sms.aliyun_texts import TEMPLATE_TEXTS
from monitor.runtime.logs import configure_logging
from monitor.runtime.service import Monitor
from monitor.users.accounts import NewUser, create_user
from monitor.users.identity import Role
from monitor.users.passwords import Passwords
from simulator.broker import PrivateBroker
from simulator.commands.common import stop_signals
from simulator.demo import SCENARIOS
from simulator.demo.directory import TIMEZONE, checkin_deadline, demo_directory
from simulator.demo.printer import Printer
from simulator.demo.timeline import AlertTimeline
from simulator.fleet import Fleet
from simulator.harness.deployment import aliyun_section, aliyun_template_code, modem_section
from simulator.harness.dummy_modem import DummyModem
from simulator.sandbox import SmsSandbox
from simulator.scenario import SandboxScripts, ScenarioRun, load_scenario
from simulator.scenario.fleet_of import scenario_devices
from simulator.scenario.phones import ModemScripts

CONSOLE_USER = "demo"
CONSOLE_PASSWORD = "callwatch-demo"  # noqa: S105 - the demo's published sign-in, in a throwaway database
TIER_TIMEOUT_S = 20
FAST_TIER_TIMEOUT_S = 3
SUBSCRIBED_WITHIN_S = 20.0


#: ``--provider``'s choices: how the demo's SMS go
PROVIDERS = ("sandbox", "aliyun", "modem")


async def run_demo(port: int = 8080, keep: bool = False, fast: bool = False, provider: str = "sandbox") -> int:
    printer = Printer.for_stdout()
    folder = Path(tempfile.mkdtemp(prefix="callwatch-demo-"))
    try:
        with stop_signals() as stop:
            await _demo(folder, port, fast, provider, printer, stop)
    finally:
        if keep:
            printer.info(f"kept the demo's files in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    printer.info("demo stopped cleanly")
    return 0


async def _demo(folder: Path, port: int, fast: bool, provider: str, printer: Printer, stop: asyncio.Event) -> None:
    configure_logging("text", "WARNING")
    web_url = f"http://127.0.0.1:{port}"
    async with contextlib.AsyncExitStack() as stack:
        broker = await stack.enter_async_context(PrivateBroker(folder / "broker"))
        sandbox = await stack.enter_async_context(
            SmsSandbox(inbound_url=f"{web_url}/twilio/sms", status_step_delay=0.2)
        )
        modem = stack.enter_context(DummyModem(folder / "modem")) if provider == "modem" else None
        config = _write_files(folder, broker.url, _sms_section(provider, sandbox, modem, web_url), port, fast)
        try:
            monitor = await stack.enter_async_context(Monitor(load_settings(config), config_path=config))
        except OSError as exc:
            raise UserError(f"cannot serve the console on {web_url} ({exc.strerror}); try --port 8081") from None
        await _create_console_user(monitor)
        await _wait_until_subscribed(monitor)

        scenario_path = SCENARIOS / ("demo-fast.toml" if fast else "demo.toml")
        scenario, directory = load_scenario(scenario_path, folder / "directory.toml")
        fleet = await stack.enter_async_context(
            Fleet(broker.address, scenario_devices(scenario, directory), name="demo")
        )
        tasks = []
        if modem is not None:
            phones = ModemScripts(modem)
            await phones.apply(scenario.phones)
            tasks.append(asyncio.create_task(phones.run(), name="demo-phones"))
        else:
            await SandboxScripts(sandbox).apply(scenario.phones)

        _banner(printer, broker.kind, broker.url, web_url, _sms_line(provider, sandbox, modem), folder, fast)
        timeline_done = asyncio.Event()
        following = asyncio.create_task(
            AlertTimeline(monitor.database, monitor.changes, printer).follow(timeline_done), name="demo-timeline"
        )
        playing = asyncio.create_task(ScenarioRun(scenario, fleet, narrate=printer.story).run(), name="demo-scenario")
        try:
            await monitor.wait_until(stop)
            printer.info("stopping: devices, monitor, sandbox, broker")
        finally:
            for task in (playing, *tasks):
                task.cancel()
            timeline_done.set()
            await asyncio.gather(playing, following, *tasks, return_exceptions=True)


def _sms_section(provider: str, sandbox: SmsSandbox, modem: DummyModem | None, web_url: str) -> str:
    """``[sms]`` and its provider's section for ``--provider``."""
    if provider == "aliyun":
        # The sandbox's account has callwatch's templates approved, in Chinese (docs/providers.md).
        sandbox.approve_aliyun_templates(
            {aliyun_template_code(purpose): TEMPLATE_TEXTS[purpose]["zh"] for purpose in TEMPLATE_TEXTS}
        )
        return f'[sms]\nprovider = "aliyun"\n\n{aliyun_section(sandbox, web_url)}'
    if modem is not None:
        return f'[sms]\nprovider = "modem"\n\n{modem_section(modem)}'
    return f'[sms]\nprovider = "sandbox"\n\n[sms.sandbox]\napi_base_url = "{sandbox.base_url}"\n'


def _sms_line(provider: str, sandbox: SmsSandbox, modem: DummyModem | None) -> str:
    if modem is not None:
        return f"  GSM modem     gammu-smsd on Gammu's dummy phone, spool {modem.spool}   (volunteers reply into it)"
    carrier = " as Alibaba Cloud" if provider == "aliyun" else ""
    return f"  SMS sandbox   {sandbox.page_url}   (every volunteer's phone and inbox{carrier})"


def _write_files(folder: Path, broker_url: str, sms_section: str, port: int, fast: bool) -> Path:
    checkin_by = None if fast else checkin_deadline(datetime.now(UTC), ZoneInfo(TIMEZONE))
    tier_timeout_s = FAST_TIER_TIMEOUT_S if fast else TIER_TIMEOUT_S
    directory = folder / "directory.toml"
    directory.write_text(demo_directory(tier_timeout_s=tier_timeout_s, checkin_by=checkin_by), encoding="utf-8")
    config = folder / "callwatch.toml"
    config.write_text(
        f"""
[mqtt]
url = "{broker_url}"
client_id = "callwatch-demo"
reconnect_max_s = 2

[database]
url = "sqlite+aiosqlite:///{folder / "callwatch.db"}"

{sms_section}
[web]
listen = "127.0.0.1:{port}"
public_url = "http://127.0.0.1:{port}"
map_tile_url = ""

[directory]
file = "{directory}"

[service]
timezone = "{TIMEZONE}"
log_format = "text"
log_level = "WARNING"
""",
        encoding="utf-8",
    )
    return config


async def _create_console_user(monitor: Monitor) -> None:
    async with monitor.database.write() as session:
        account = NewUser(CONSOLE_USER, "Demo duty desk", Role.ADMIN, "zh", CONSOLE_PASSWORD)
        await create_user(session, Passwords(), account, datetime.now(UTC), actor="demo")


async def _wait_until_subscribed(monitor: Monitor) -> None:
    """Devices speak only once the monitor listens: its broker component turns ok when subscribed."""
    deadline = asyncio.get_running_loop().time() + SUBSCRIBED_WITHIN_S
    while not monitor.health.components["broker"].ok:
        if asyncio.get_running_loop().time() > deadline:
            detail = monitor.health.components["broker"].detail
            raise UserError(
                f"the monitor did not connect to the demo's broker within {SUBSCRIBED_WITHIN_S:.0f} s: {detail}"
            )
        await asyncio.sleep(0.05)


def _banner(
    printer: Printer, broker_kind: str, broker_url: str, web_url: str, sms_line: str, folder: Path, fast: bool
) -> None:
    printer.info("callwatch demo is running" + (" (fast: tier timeouts of 3 s)" if fast else ""))
    printer.info(f"  console       {web_url}/   sign in as {CONSOLE_USER} / {CONSOLE_PASSWORD}")
    printer.info(sms_line)
    printer.info(
        f"  broker        {broker_url}   ({broker_kind}); try: callwatch-sim press btn-07 --broker {broker_url}"
    )
    printer.info(f"  data          {folder}")
    printer.info("  Ctrl-C stops everything")

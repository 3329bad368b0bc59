"""`callwatch`: run the monitor, the demo, imports, listings and checks.

Every mistake a user can make ends with one readable sentence per problem on stderr and
exit code 1, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.alerts.lifecycle import AlertState
from monitor.alerts.views import alert_summary, list_alerts
from monitor.config.settings import Settings, load_settings
from monitor.core.clock import SystemClock
from monitor.core.effects import Effects
from monitor.core.errors import UserError
from monitor.directory.file import load_directory
from monitor.directory.model import Directory
from monitor.directory.retire import HandBack, retirement_preview
from monitor.directory.rules import SECTIONS
from monitor.directory.spreadsheets import SPREADSHEET_SUFFIXES, sheet_section
from monitor.directory.sync import import_directory
from monitor.directory.template_fit import template_lines
from monitor.notify.sms.gammu_spool import read_smsdrc
from monitor.notify.sms.template_check import require_templates
from monitor.reports.commands import add_report_command, run_report
from monitor.runtime.logs import configure_logging
from monitor.store.database import SQLITE_BUSY_TIMEOUT_MS, Database, is_unavailable
from monitor.store.migrate import schema_is_current, upgrade
from monitor.store.models import Alert, Volunteer
from monitor.users.commands import add_user_commands

Command = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    command: Command = arguments.command
    try:
        code = run_async(command(arguments))
    except UserError as exc:
        print(f"callwatch: {exc}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


def run_async(main_coroutine: Coroutine[Any, Any, int]) -> int:
    """Run on uvloop where it is installed: it roughly halves the event loop's share of a press's latency."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main_coroutine)
    return uvloop.run(main_coroutine)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="callwatch", description="Emergency call-button monitoring.")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run the monitor until SIGTERM/SIGINT")
    run.add_argument("--config", required=True, type=Path, help="service config (TOML)")
    run.set_defaults(command=cmd_run)

    demo = commands.add_parser("demo", help="run a self-contained demo: broker, sandbox, devices, console")
    demo.add_argument("--port", type=int, default=8080, help="console port (default 8080)")
    demo.add_argument("--keep", action="store_true", help="keep the demo's temporary folder")
    demo.add_argument("--fast", action="store_true", help="tier timeouts of 3 s: the escalation part in seconds")
    demo.add_argument(
        "--provider",
        choices=("sandbox", "aliyun", "modem"),
        default="sandbox",
        help="how SMS go: the sandbox as Twilio (default) or as Alibaba Cloud, or a GSM modem (Gammu's dummy phone)",
    )
    demo.set_defaults(command=cmd_demo)

    importer = commands.add_parser(
        "import", help="upsert a directory file, or a spreadsheet of one section, into the database (idempotent)"
    )
    importer.add_argument("file", type=Path, help="directory file (TOML), or a CSV file or .xlsx workbook")
    importer.add_argument("--config", required=True, type=Path, help="service config (TOML)")
    importer.add_argument(
        "--section",
        choices=SECTIONS,
        help="what a CSV file or workbook holds (else the section its name contains: callwatch-residents.csv)",
    )
    importer.add_argument(
        "--prune",
        action="store_true",
        help="retire the entries (people, devices, areas, policies) the file no longer lists (asks first); "
        "of a spreadsheet, those of its section",
    )
    importer.add_argument("--yes", action="store_true", help="with --prune: retire them without asking")
    importer.add_argument(
        "--dry-run", action="store_true", help="show what would be added, changed and retired; write nothing"
    )
    importer.add_argument(
        "--reassign",
        action="store_true",
        help="hand the alerts retired volunteers hold back to escalation, instead of refusing the import",
    )
    importer.set_defaults(command=cmd_import)

    alerts = commands.add_parser("alerts", help="list alerts")
    alerts.add_argument("--config", required=True, type=Path, help="service config (TOML)")
    alerts.add_argument("--state", choices=[state.value for state in AlertState])
    alerts.add_argument("--json", action="store_true", help="one JSON object per line")
    alerts.add_argument("--limit", type=int, default=1000)
    alerts.set_defaults(command=cmd_alerts)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(title="db commands", required=True, metavar="DB_COMMAND")
    db_upgrade = db_commands.add_parser("upgrade", help="apply schema migrations")
    db_upgrade.add_argument("--config", required=True, type=Path, help="service config (TOML)")
    db_upgrade.set_defaults(command=cmd_db_upgrade)

    check = commands.add_parser("check-config", help="validate a service config and its directory")
    check.add_argument("file", type=Path, help="service config (TOML)")
    check.set_defaults(command=cmd_check_config)

    acl = commands.add_parser(
        "acl", help="write Mosquitto's password file and ACL for the devices in the directory (database)"
    )
    acl.add_argument("--config", required=True, type=Path, help="service config (TOML)")
    acl.add_argument("--out", required=True, type=Path, help="folder for passwd, acl and new device-credentials.csv")
    acl.set_defaults(command=cmd_acl)

    erase = commands.add_parser(
        "erase", help="erase everything personal about a resident or volunteer (alerts stay, anonymous)"
    )
    erase.add_argument("kind", choices=("resident", "volunteer"))
    erase.add_argument("id", help="the resident's or volunteer's id")
    erase.add_argument("--config", required=True, type=Path, help="service config (TOML)")
    erase.add_argument("--yes", action="store_true", help="erase without asking")
    erase.set_defaults(command=cmd_erase)

    add_user_commands(commands, cmd_user)
    add_report_command(commands, cmd_report)
    return parser


def _settings(path: Path) -> Settings:
    settings = load_settings(path)
    require_templates(path, settings)
    configure_logging(settings.service.log_format, settings.service.log_level)
    return settings


class _OpenDatabase:
    """Open the configured database, turning "cannot connect" into one sentence."""

    def __init__(self, settings: Settings, config_path: Path) -> None:
        self.database = Database(settings.database.url, pool_size=2)
        self.config_path = config_path

    async def __aenter__(self) -> Database:
        await self.database.__aenter__()
        try:
            await self.database.ping()
        except Exception as exc:
            await self.database.__aexit__(None, None, None)
            raise _database_error(self.config_path, self.database.url, exc) from None
        return self.database

    async def __aexit__(self, *exc_info: object) -> None:
        await self.database.__aexit__(None, None, None)


def _database_error(config_path: Path, url: str, error: BaseException) -> UserError:
    from sqlalchemy.engine import make_url

    shown = make_url(url).render_as_string(hide_password=True)
    if "database is locked" in str(error):
        return UserError(
            f"{config_path}: [database] url: {shown} stayed locked by another process for "
            f"{SQLITE_BUSY_TIMEOUT_MS // 1000} s; try again, or look for a stuck callwatch process."
        )
    return UserError(
        f"{config_path}: [database] url: cannot open {shown} ({type(error).__name__}: {str(error)[:160]}); "
        "check that the database server runs and the url is right."
    )


async def cmd_run(arguments: argparse.Namespace) -> int:
    from monitor.runtime.service import Monitor
    from monitor.runtime.watchdog import EXIT_STALLED, LoopStalled

    settings = _settings(arguments.config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with Monitor(settings, config_path=arguments.config) as monitor:
            # What start-up loaded lives as long as the process: the garbage collector need not
            # walk it again and again (a full collection over a large directory stalls the loop).
            gc.collect()
            gc.freeze()
            await monitor.wait_until(stop)
    except LoopStalled as stalled:
        logging.getLogger("callwatch").critical(
            "callwatch monitor stopped: %s; exit code %d asks the service manager to restart it", stalled, EXIT_STALLED
        )
        return EXIT_STALLED
    except UserError:
        raise
    except Exception as exc:
        if is_unavailable(exc):
            raise _database_error(arguments.config, settings.database.url, exc) from None
        raise
    logging.getLogger("callwatch").info("callwatch monitor stopped cleanly")
    return 0


async def cmd_demo(arguments: argparse.Namespace) -> int:
    from simulator.demo.session import run_demo

    return await run_demo(port=arguments.port, keep=arguments.keep, fast=arguments.fast, provider=arguments.provider)


async def cmd_import(arguments: argparse.Namespace) -> int:
    settings = _settings(arguments.config)
    spreadsheet = _read_spreadsheet(arguments) if arguments.file.suffix.lower() in SPREADSHEET_SUFFIXES else None
    pruned = (SECTIONS if spreadsheet is None else (spreadsheet[0],)) if arguments.prune else ()
    async with _OpenDatabase(settings, arguments.config) as database:
        await upgrade(database)
        if spreadsheet is None:
            directory = load_directory(arguments.file)
        else:
            directory = await _spreadsheet_directory(database, arguments.file, *spreadsheet)
        if pruned and not arguments.yes and not arguments.dry_run:
            leaving = await retirement_preview(database, directory, prune=pruned)
            if leaving and not _retiring_confirmed(arguments.file, leaving):
                print(f"{arguments.file}: not imported, nothing was changed")
                return 1
        hand_back = _hand_back_to_escalation(settings) if arguments.reassign else None
        summary = await import_directory(
            database,
            directory,
            prune=pruned,
            hand_back=hand_back,
            tell_retired=settings.sms.tell_retired,
            dry_run=arguments.dry_run,
        )
    if arguments.dry_run:
        print(f"{arguments.file}: a dry run, nothing was written; importing it would do:")
    else:
        print(f"imported {arguments.file}:")
    for line in summary.lines():
        print(f"  {line}")
    return 0


def _read_spreadsheet(arguments: argparse.Namespace) -> tuple[str, bytes]:
    """The section a CSV file or .xlsx workbook holds (``--section``, else the one its name
    contains) and its bytes."""
    section = arguments.section or sheet_section(arguments.file, SECTIONS)
    if section is None:
        raise UserError(
            f"{arguments.file}: which entries does it hold? Give --section ({', '.join(SECTIONS)}) "
            "or name the file after them (residents.xlsx)."
        )
    try:
        return str(section), arguments.file.read_bytes()
    except OSError as exc:
        raise UserError(f"{arguments.file}: cannot be read ({exc.strerror}); check the path.") from None


async def _spreadsheet_directory(database: Database, path: Path, section: str, data: bytes) -> Directory:
    """A spreadsheet's rows checked as the console's import checks them (every rejected row named)."""
    from monitor.web.forms import directory_forms

    return await directory_forms.spreadsheet_directory(database, directory_forms.SECTIONS[section], data, str(path))


def _hand_back_to_escalation(settings: Settings) -> HandBack:
    """A retired volunteer's alert goes back to escalation as if they had replied NO; the running
    monitors ask the next people (this process sends nothing)."""
    from monitor.actions.alert_actions import AlertActions, Taker
    from monitor.core.metrics import Metrics
    from monitor.notify.channels import channel_names, configured_channels
    from monitor.runtime.service import escalation_for

    metrics = Metrics()
    actions = AlertActions(escalation_for(settings, metrics, channel_names(configured_channels(settings))), metrics)

    async def hand_back(session: AsyncSession, effects: Effects, alert: Alert, volunteer: Volunteer) -> None:
        taker = Taker.volunteer_taker(volunteer)
        await actions.hand_back(
            session, effects, alert, taker=taker, now=SystemClock().now(), reason="retired", ask_now=False
        )

    return hand_back


def _retiring_confirmed(path: Path, leaving: dict[str, list[str]]) -> bool:
    """Show who and what importing ``path`` retires and ask; anything but yes (or no terminal to answer) is no."""
    print(f"importing {path} retires, never to be asked, supervised or let in again:")
    for section, described in leaving.items():
        print(f"  {section}: {', '.join(described)}")
    return _confirmed("retire them? [y/N] ")


async def cmd_alerts(arguments: argparse.Namespace) -> int:
    settings = _settings(arguments.config)
    async with _OpenDatabase(settings, arguments.config) as database:
        if not await schema_is_current(database):
            raise UserError(
                f"{arguments.config}: [database] url: the database has no callwatch schema or an older one; "
                f"run `callwatch db upgrade --config {arguments.config}` (callwatch run does it too)."
            )
        async with database.read() as session:
            alerts = [alert_summary(alert) for alert in await list_alerts(session, arguments.state, arguments.limit)]
    if arguments.json:
        for alert in alerts:
            print(json.dumps(alert, ensure_ascii=False))
        return 0
    if not alerts:
        print("no alerts")
        return 0
    print(f"{'id':>6}  {'kind':<14} {'state':<13} {'resident':<10} {'raised at':<26} {'tier':>4}  by")
    for alert in alerts:
        flag = "  UNANSWERED" if alert["unanswered"] else ""
        print(
            f"{alert['id']:>6}  {alert['kind']!s:<14} {alert['state']!s:<13} {alert['resident_id']!s:<10} "
            f"{alert['raised_at']!s:<26} {alert['tier']!s:>4}  {alert['acknowledged_by'] or ''}{flag}"
        )
    return 0


async def cmd_db_upgrade(arguments: argparse.Namespace) -> int:
    settings = _settings(arguments.config)
    async with _OpenDatabase(settings, arguments.config) as database:
        await upgrade(database)
    print("database schema is up to date")
    return 0


async def cmd_check_config(arguments: argparse.Namespace) -> int:
    settings = load_settings(arguments.file)
    require_templates(arguments.file, settings)
    sms = ", ".join(settings.sms.provider_order)
    print(f"{arguments.file}: config OK (mqtt {settings.mqtt.host}:{settings.mqtt.port}, sms {sms})")
    directory = load_directory(Path(settings.directory.file)) if settings.directory.file else None
    if directory is not None:
        print(
            f"{settings.directory.file}: directory OK ({len(directory.areas)} areas, "
            f"{len(directory.residents)} residents, {len(directory.devices)} devices, "
            f"{len(directory.volunteers)} volunteers, {len(directory.policies)} policies)"
        )
    if settings.sms.aliyun is not None and "aliyun" in settings.sms.provider_order:
        print("\n".join(template_lines(settings.sms.aliyun, directory)))
    if "modem" in settings.sms.provider_order:
        spool = read_smsdrc(Path(settings.sms.modem.smsdrc))
        print(f"{settings.sms.modem.smsdrc}: gammu-smsd spool OK (outbox {spool.outbox}, inbox {spool.inbox})")
    return 0


async def cmd_erase(arguments: argparse.Namespace) -> int:
    from monitor.directory.erase import erase_person
    from monitor.users import audit

    settings = _settings(arguments.config)
    if not arguments.yes and not _confirmed(
        f"erase everything personal about {arguments.kind} {arguments.id}? This cannot be undone. [y/N] "
    ):
        print("not erased, nothing was changed")
        return 1
    async with _OpenDatabase(settings, arguments.config) as database:
        await upgrade(database)
        async with database.write() as session:
            erased = await erase_person(session, arguments.kind, arguments.id)
            audit.record(
                session,
                actor="cli",
                action="erase",
                target=f"{erased.kind}:{erased.person_id}",
                now=SystemClock().now(),
                detail=f"{erased.cells} text cells overwritten",
            )
    print(f"erased {erased.kind} {erased.person_id}: {erased.cells} text cells overwritten; alerts kept, anonymous")
    return 0


def _confirmed(question: str) -> bool:
    """Anything but yes (or no terminal to answer) is no."""
    try:
        answer = input(question)
    except EOFError:
        answer = ""
    return answer.strip().lower() in ("y", "yes")


async def cmd_acl(arguments: argparse.Namespace) -> int:
    from monitor.broker.files import write_broker_files

    settings = _settings(arguments.config)
    async with _OpenDatabase(settings, arguments.config) as database:
        await upgrade(database)
        written = await write_broker_files(database, settings.mqtt, arguments.out)
    print(f"wrote {arguments.out / 'passwd'} and {arguments.out / 'acl'}: {len(written.accounts)} accounts")
    if written.new_accounts:
        print(f"  new accounts: {', '.join(written.new_accounts)}")
        print(f"  their passwords: {written.credentials_file} (give them to the installer, then delete the file)")
    if written.removed:
        print(f"  removed (no longer in the directory): {', '.join(written.removed)}")
    print("  reload Mosquitto to apply: systemctl reload mosquitto (or kill -HUP its process)")
    return 0


async def cmd_user(arguments: argparse.Namespace) -> int:
    settings = _settings(Path(arguments.config))
    async with _OpenDatabase(settings, Path(arguments.config)) as database:
        await upgrade(database)
        code: int = await arguments.user_action(database, arguments)
    return code


async def cmd_report(arguments: argparse.Namespace) -> int:
    settings = _settings(arguments.config)
    async with _OpenDatabase(settings, arguments.config) as database:
        await upgrade(database)
        return await run_report(database, settings, arguments)

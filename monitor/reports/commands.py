"""`callwatch report --from --to [--area] [--format text|csv|json|png]`: the console's report, offline."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from monitor.config.settings import Settings
from monitor.core.errors import UserError
from monitor.reports.charts import render_chart
from monitor.reports.export import report_csv, report_data
from monitor.reports.figures import Report, build_report
from monitor.reports.period import PeriodError, make_period
from monitor.reports.responders import ResponderFigures
from monitor.store.database import Database
from monitor.store.models import Organisation


def add_report_command(commands: Any, run: Callable[[argparse.Namespace], Any]) -> None:
    report = commands.add_parser("report", help="answer times, outcomes and load for a period (and area)")
    report.add_argument("--config", required=True, type=Path, help="service config (TOML)")
    report.add_argument("--from", dest="start", required=True, help="first day (2026-03-01) or time, local")
    report.add_argument("--to", dest="end", required=True, help="last day, inclusive (or an exact end time)")
    report.add_argument("--area", help="one area's alerts only")
    report.add_argument("--organisation", help="one organisation's alerts only (its areas')")
    report.add_argument("--format", choices=["text", "csv", "json", "png"], default="text")
    report.add_argument("--output", type=Path, help="write here instead of standard output (needed for png)")
    report.set_defaults(command=run)


async def run_report(database: Database, settings: Settings, arguments: argparse.Namespace) -> int:
    try:
        period = make_period(arguments.start, arguments.end, ZoneInfo(settings.service.timezone))
    except PeriodError as exc:
        raise UserError(f"--from/--to: {exc}.") from None
    if arguments.format == "png" and arguments.output is None and sys.stdout.isatty():
        raise UserError("--format png writes an image: give --output FILE.png (or redirect standard output).")
    async with database.read() as session:
        if arguments.organisation and await session.get(Organisation, arguments.organisation) is None:
            raise UserError(f"--organisation: there is no organisation {arguments.organisation!r} in the directory.")
        report = await build_report(session, period, arguments.area, organisation_id=arguments.organisation)
    output = _render(report, arguments.format)
    if arguments.output is not None:
        arguments.output.write_bytes(output)
        print(f"wrote {arguments.output}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(output)
        sys.stdout.flush()
    return 0


def _render(report: Report, chosen: str) -> bytes:
    if chosen == "json":
        return (json.dumps(report_data(report), ensure_ascii=False, indent=2) + "\n").encode()
    if chosen == "csv":
        return report_csv(report).encode()
    if chosen == "png":
        return render_chart(report, "png")
    return text_report(report).encode()


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def text_report(report: Report) -> str:
    lines = [
        f"callwatch report {report.period.label()} ({report.period.zone.key})"
        + (f", organisation {report.organisation_name}" if report.organisation_name else "")
        + (f", area {report.area_name or report.area_id}" if report.area_id else ""),
        f"alerts: {report.total}  ({', '.join(f'{kind} {n}' for kind, n in report.by_kind.items()) or 'none'})",
        f"unanswered: {report.unanswered}",
        f"time to first SMS: median {_seconds(report.first_sms.median_s)}, p90 {_seconds(report.first_sms.p90_s)}",
        f"time to acknowledge (SOS/fall): median {_seconds(report.to_acknowledge.median_s)}, "
        f"p90 {_seconds(report.to_acknowledge.p90_s)}, p99 {_seconds(report.to_acknowledge.p99_s)}",
    ]
    for label, share in (("60 s", report.within_60s), ("180 s", report.within_180s)):
        verdict = "" if share.meets_target is None else (" meets target" if share.meets_target else " BELOW target")
        lines.append(
            f"acknowledged within {label}: {_percent(share.value)} ({share.within} of {share.of}; "
            f"target {share.target * 100:g} %){verdict}"
        )
    if report.responders is not None:
        lines += _responder_lines(report.responders.overall, "on site")
        lines += [line for area in report.responders.areas for line in _responder_lines(area, f"  area {area.name}")]
        lines += [
            line
            for volunteer in report.responders.volunteers
            for line in _responder_lines(volunteer, f"  {volunteer.name} ({volunteer.key})")
        ]
    lines.append(f"outcomes: {', '.join(f'{o} {n}' for o, n in report.outcomes.items()) or 'none'}")
    lines.append(f"asks by channel: {', '.join(f'{c} {n}' for c, n in report.asks_by_channel.items()) or 'none'}")
    lines.append(f"taken by: {', '.join(f'{c} {n}' for c, n in report.taken_by_channel.items()) or 'none'}")
    for load in report.volunteers:
        lines.append(
            f"  {load.name} ({load.volunteer_id}): asked {load.asked}, took {load.took}, declined {load.declined}"
        )
    return "\n".join(lines) + "\n"


def _responder_lines(figures: ResponderFigures, label: str) -> list[str]:
    """A group's responder figures: the shares on site in 45 and 60 minutes, times, hand-backs, overdue."""
    judged = "" if figures.enough else f" (too few calls to judge: {figures.calls})"
    shares = ", ".join(
        f"{_percent(share.value)} within {minutes} min (target {share.target * 100:g} %)"
        for minutes, share in ((45, figures.within_45), (60, figures.within_60))
    )
    return [
        f"{label}: {figures.arrivals} of {figures.calls} calls; {shares}{judged}",
        f"{' ' * (len(label) - len(label.lstrip()))}  press to on site median "
        f"{_seconds(figures.press_to_on_site.median_s)}, p90 {_seconds(figures.press_to_on_site.p90_s)}; "
        f"taken to on site median {_seconds(figures.taken_to_on_site.median_s)}, "
        f"p90 {_seconds(figures.taken_to_on_site.p90_s)}; handed back {figures.handed_back}, overdue {figures.overdue}",
    ]

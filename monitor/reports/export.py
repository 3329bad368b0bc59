"""A report as JSON-ready data and as CSV (one table of metric, key, value rows)."""

from __future__ import annotations

from typing import Any

from monitor.core.csv_cells import write_csv
from monitor.reports.figures import Report
from monitor.reports.measures import Durations, Share
from monitor.reports.responders import ResponderFigures, Responders


def report_data(report: Report) -> dict[str, Any]:
    return {
        "period": {
            "from": report.period.start.isoformat(),
            "to": report.period.end.isoformat(),
            "timezone": report.period.zone.key,
        },
        "area": report.area_id,
        "organisation": report.organisation_id,
        "alerts": report.total,
        "by_kind": report.by_kind,
        "by_state": report.by_state,
        "time_to_first_sms_s": _durations(report.first_sms),
        "time_to_acknowledge_s": _durations(report.to_acknowledge),
        "acknowledged_within_60s": _share(report.within_60s),
        "acknowledged_within_180s": _share(report.within_180s),
        "unanswered": report.unanswered,
        "outcomes": report.outcomes,
        "asks_by_channel": report.asks_by_channel,
        "taken_by_channel": report.taken_by_channel,
        "volunteers": [
            {
                "id": load.volunteer_id,
                "name": load.name,
                "asked": load.asked,
                "took": load.took,
                "declined": load.declined,
            }
            for load in report.volunteers
        ],
        "days": [
            {
                "day": day.day.isoformat(),
                "alerts": day.alerts,
                "urgent": day.urgent,
                "acknowledged_within_60s": day.answered_60s,
                "responder_calls": day.responder_calls,
                "on_site_within_45min": day.on_site_45_min,
            }
            for day in report.days
        ],
        "responders": _responders(report.responders) if report.responders is not None else None,
    }


def _responders(responders: Responders) -> dict[str, Any]:
    return {
        **_responder_group(responders.overall),
        "areas": [_responder_group(area) for area in responders.areas],
        "volunteers": [_responder_group(volunteer) for volunteer in responders.volunteers],
    }


def _responder_group(figures: ResponderFigures) -> dict[str, Any]:
    return {
        "id": figures.key,
        "name": figures.name,
        "calls": figures.calls,
        "arrivals": figures.arrivals,
        "enough_to_judge": figures.enough,
        "on_site_within_45min": _share(figures.within_45),
        "on_site_within_60min": _share(figures.within_60),
        "press_to_on_site_s": _durations(figures.press_to_on_site),
        "taken_to_on_site_s": _durations(figures.taken_to_on_site),
        "handed_back": figures.handed_back,
        "overdue": figures.overdue,
    }


def _durations(durations: Durations) -> dict[str, float | int | None]:
    return {"count": durations.count, "median": durations.median_s, "p90": durations.p90_s, "p99": durations.p99_s}


def _share(share: Share) -> dict[str, float | int | bool | None]:
    return {
        "within": share.within,
        "of": share.of,
        "share": share.value,
        "target": share.target,
        "meets_target": share.meets_target,
    }


def report_csv(report: Report) -> str:
    """``section,key,value`` rows: easy to open in a spreadsheet and to filter by section."""
    data = report_data(report)
    rows: list[tuple[str, str, object]] = [
        ("period", "from", data["period"]["from"]),
        ("period", "to", data["period"]["to"]),
        ("period", "timezone", data["period"]["timezone"]),
        ("period", "area", data["area"] or ("" if data["organisation"] else "all")),
        ("period", "organisation", data["organisation"] or ""),
        ("alerts", "total", data["alerts"]),
        ("alerts", "unanswered", data["unanswered"]),
    ]
    rows += [("by_kind", kind, count) for kind, count in data["by_kind"].items()]
    rows += [("by_state", state, count) for state, count in data["by_state"].items()]
    for section in (
        "time_to_first_sms_s",
        "time_to_acknowledge_s",
        "acknowledged_within_60s",
        "acknowledged_within_180s",
    ):
        rows += [(section, key, value) for key, value in data[section].items()]
    rows += [("outcomes", outcome, count) for outcome, count in data["outcomes"].items()]
    rows += [("asks_by_channel", channel, count) for channel, count in data["asks_by_channel"].items()]
    rows += [("taken_by_channel", channel, count) for channel, count in data["taken_by_channel"].items()]
    for load in data["volunteers"]:
        rows += [(f"volunteer:{load['id']}", key, load[key]) for key in ("name", "asked", "took", "declined")]
    for day in data["days"]:
        rows += [
            (f"day:{day['day']}", key, day[key])
            for key in ("alerts", "urgent", "acknowledged_within_60s", "responder_calls", "on_site_within_45min")
        ]
    responders = data["responders"]
    if responders is not None:
        for group, section in [
            (responders, "responders"),
            *((area, f"responders:area:{area['id']}") for area in responders["areas"]),
            *((volunteer, f"responders:volunteer:{volunteer['id']}") for volunteer in responders["volunteers"]),
        ]:
            rows += _responder_rows(section, group)
    return write_csv(["section", "key", "value"], rows)


def _responder_rows(section: str, group: dict[str, Any]) -> list[tuple[str, str, object]]:
    """One group's responder figures as rows: plain values, then each measure's parts ("on_site_within_45min.share")."""
    rows: list[tuple[str, str, object]] = [
        (section, key, group[key]) for key in ("name", "calls", "arrivals", "enough_to_judge", "handed_back", "overdue")
    ]
    for measure in ("on_site_within_45min", "on_site_within_60min", "press_to_on_site_s", "taken_to_on_site_s"):
        rows += [(section, f"{measure}.{key}", value) for key, value in group[measure].items()]
    return rows

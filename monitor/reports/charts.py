"""Report charts (matplotlib's object API, no pyplot state): alerts per day, the share answered
within 60 s per day against the 97.5 % target, and the share of calls with someone on site within
45 minutes against the 90 % target. PNG for the command line, SVG for the console."""

from __future__ import annotations

import io
from typing import Literal

from monitor.reports.figures import TARGET_60S, Report
from monitor.reports.responders import TARGET_45_MIN

ChartFormat = Literal["png", "svg"]


def render_chart(report: Report, chart_format: ChartFormat, *, title: str = "") -> bytes:
    # Imported here: matplotlib takes about a second to import, which every monitor start
    # (and every test that starts one) would otherwise pay for a page few people open.
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 5.5), dpi=100, layout="constrained")
    counts, shares = figure.subplots(2, 1, sharex=True)
    days = [day.day for day in report.days]
    counts.bar(days, [day.urgent for day in report.days], color="#c62828", label="SOS / fall")
    counts.bar(
        days,
        [day.alerts - day.urgent for day in report.days],
        bottom=[day.urgent for day in report.days],
        color="#90a4ae",
        label="other",
    )
    counts.set_ylabel("alerts")
    counts.legend(loc="upper left", frameon=False)
    counts.set_title(title or f"callwatch report {report.period.label()}", loc="left", fontsize=11)

    answered = [(day.day, day.answered_60s / day.urgent * 100) for day in report.days if day.urgent]
    if answered:
        shares.plot(
            [day for day, _ in answered],
            [share for _, share in answered],
            marker="o",
            color="#1565c0",
            label="acknowledged within 60 s",
        )
    on_site = [(day.day, day.on_site_45_min / day.responder_calls * 100) for day in report.days if day.responder_calls]
    if on_site:
        shares.plot(
            [day for day, _ in on_site],
            [share for _, share in on_site],
            marker="s",
            color="#6a1b9a",
            label="on site within 45 min",
        )
    shares.axhline(TARGET_60S * 100, color="#2e7d32", linestyle="--", linewidth=1, label="target 97.5 %")
    shares.axhline(TARGET_45_MIN * 100, color="#6a1b9a", linestyle=":", linewidth=1, label="target 90 %")
    shares.set_ylim(0, 105)
    shares.set_ylabel("% per day")
    shares.legend(loc="lower left", frameon=False)
    figure.autofmt_xdate()
    out = io.BytesIO()
    figure.savefig(out, format=chart_format, metadata={"Date": None} if chart_format == "svg" else None)
    return out.getvalue()

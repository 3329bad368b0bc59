"""Responder figures on a real database, beside the answering ones: calls that needed someone
there, the shares on site within 45 and 60 minutes, times, hand-backs, overdue; in the report's
data, its CSV and its text."""

from __future__ import annotations

from monitor.reports.commands import text_report
from monitor.reports.export import report_csv, report_data
from monitor.reports.figures import Report, build_report
from monitor.reports.period import make_period
from tests.escalation.kit import World, world
from tests.oncall.kit import LI_MING, SHANGHAI, ZHANG_WEI


async def _report(w: World) -> Report:
    async with w.database.read() as session:
        return await build_report(session, make_period("2026-05-06", "2026-05-06", SHANGHAI))


async def test_one_arrival_within_45_minutes_counts_and_is_marked_too_few_to_judge(database_url: str) -> None:
    async with world(database_url) as w:
        arrived = await w.raise_sos()
        await w.reply(ZHANG_WEI, f"ACK {arrived}")
        await w.reply(ZHANG_WEI, f"NO {arrived}: car broke down")
        w.clock.advance(minutes=1)
        await w.reply(LI_MING, f"ACK {arrived}")
        w.clock.advance(minutes=20)
        await w.reply(LI_MING, "HERE")
        await w.reply(LI_MING, f"DONE {arrived}")
        visited_at_once = await w.raise_sos("r-3", "btn-3")
        await w.reply(LI_MING, f"DONE {visited_at_once}")  # resolved as visited, nobody on record as arriving
        report = await _report(w)
        csv_text = report_csv(report)

    assert report.responders is not None
    overall = report.responders.overall
    assert (overall.calls, overall.arrivals, overall.handed_back) == (2, 1, 1)
    assert (overall.within_45.within, overall.within_45.of, overall.within_60.within) == (1, 2, 1)
    assert overall.press_to_on_site.median_s == 21 * 60
    assert overall.taken_to_on_site.median_s == 20 * 60
    assert not overall.enough
    [li] = [group for group in report.responders.volunteers if group.key == "v-1"]
    [zhang] = [group for group in report.responders.volunteers if group.key == "v-2"]
    assert (li.arrivals, li.handed_back, zhang.arrivals, zhang.handed_back) == (1, 0, 0, 1)
    assert report_data(report)["responders"]["on_site_within_45min"]["within"] == 1
    assert "responders,on_site_within_45min.within,1" in csv_text
    assert "responders:volunteer:v-2,handed_back,1" in csv_text
    assert "on site: 1 of 2 calls" in text_report(report) and "too few calls to judge" in text_report(report)

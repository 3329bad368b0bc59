"""Small pure parts of who-is-on-call: how times and distances are said in SMS, the roster's gaps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.notify.texts import availability, distance_text, moment_text
from monitor.oncall.roster import gaps, union

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 5, 6, 19, 0, tzinfo=SHANGHAI)  # a Wednesday


def test_moments_are_said_as_people_say_them() -> None:
    assert moment_text(NOW.replace(hour=21), NOW, SHANGHAI, "en") == "21:00"
    assert moment_text(NOW + timedelta(hours=13), NOW, SHANGHAI, "zh") == "明天08:00"
    assert moment_text(NOW + timedelta(days=3), NOW, SHANGHAI, "en") == "Sat 19:00"
    assert moment_text(NOW + timedelta(days=3), NOW, SHANGHAI, "zh") == "周六19:00"
    assert moment_text(NOW + timedelta(days=9), NOW, SHANGHAI, "en") == "Fri 15 May 19:00"
    assert moment_text(NOW + timedelta(days=9), NOW, SHANGHAI, "zh") == "5月15日19:00"
    # the zone decides the day: 23:30 UTC is already tomorrow in Shanghai
    assert moment_text(datetime(2026, 5, 6, 23, 30, tzinfo=UTC), NOW, SHANGHAI, "en") == "tomorrow 07:30"


def test_distances_round_to_what_matters_on_foot() -> None:
    assert distance_text(3, "en") == "about 10 m from you"
    assert distance_text(347, "en") == "about 350 m from you"
    assert distance_text(1234, "zh") == "距您约1.2公里"
    assert distance_text(15_400, "en") == "about 15 km from you"


def test_every_availability_answer_says_until_when() -> None:
    until = NOW.replace(hour=23)
    assert availability("on_call", until, now=NOW, zone=SHANGHAI, language="en", after="status").text == (
        "You are on call until 23:00."
    )
    assert availability("off_schedule", until, now=NOW, zone=SHANGHAI, language="zh", after="on").text == (
        "已恢复。您目前不在值班时间，下次值班从23:00开始。"
    )
    assert "until you reply ON" in availability("off", None, now=NOW, zone=SHANGHAI, language="en", after="off").text
    assert availability("paused", until, now=NOW, zone=SHANGHAI, language="zh", after="pause").text.startswith(
        "已暂停至23:00"
    )
    assert availability("on_call", None, now=NOW, zone=SHANGHAI, language="en", after="status").text == (
        "You are on call, with no break in the coming week."
    )


def test_gaps_are_what_the_merged_spans_leave_open() -> None:
    hour = timedelta(hours=1)
    covered = union([(NOW + 2 * hour, NOW + 4 * hour), (NOW, NOW + hour), (NOW + 3 * hour, NOW + 5 * hour)])
    assert covered == [(NOW, NOW + hour), (NOW + 2 * hour, NOW + 5 * hour)]
    assert gaps(covered, NOW, NOW + 6 * hour) == [(NOW + hour, NOW + 2 * hour), (NOW + 5 * hour, NOW + 6 * hour)]
    assert gaps([], NOW, NOW + hour) == [(NOW, NOW + hour)]
    assert gaps([(NOW - hour, NOW + 2 * hour)], NOW, NOW + hour) == []

"""The on-call schedule rules: weekly windows (across midnight, in a named zone, through DST
changes) and dated exceptions, and the spans and next change worked out from them."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.oncall.schedule import DatedException, Schedule, WeeklyWindow, day_names, parse_days

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAY_NIGHTS = WeeklyWindow(frozenset(range(5)), time(18), time(8))
WEEKENDS = WeeklyWindow(frozenset({5, 6}), time(0), time(0))
#: The issue's example: weekdays 18:00-08:00, weekends all day.
VOLUNTEER = Schedule(SHANGHAI, (WEEKDAY_NIGHTS, WEEKENDS))


def at(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone)  # type: ignore[misc]


def test_no_windows_means_on_call_at_all_hours() -> None:
    always = Schedule(SHANGHAI)
    assert always.always
    assert always.on_call_at(at(SHANGHAI, 2026, 5, 6, 3, 0))
    assert always.next_change(at(SHANGHAI, 2026, 5, 6, 3, 0)) is None


@pytest.mark.parametrize(
    ("moment", "on_call"),
    [
        ((2026, 5, 6, 19, 0), True),  # Wednesday evening
        ((2026, 5, 7, 3, 0), True),  # Thursday 03:00: Wednesday's window runs past midnight
        ((2026, 5, 7, 7, 59), True),
        ((2026, 5, 7, 8, 0), False),  # the end is not included
        ((2026, 5, 7, 12, 0), False),  # weekday daytime
        ((2026, 5, 7, 17, 59), False),
        ((2026, 5, 7, 18, 0), True),  # the start is included
        ((2026, 5, 9, 12, 0), True),  # Saturday: all day
        ((2026, 5, 10, 23, 59), True),  # Sunday: all day
        ((2026, 5, 11, 3, 0), False),  # Monday 03:00: Sunday is not a weekday, so no Sunday night window
    ],
)
def test_weekly_windows_run_across_midnight(moment: tuple[int, ...], on_call: bool) -> None:
    assert VOLUNTEER.on_call_at(at(SHANGHAI, *moment)) is on_call


def test_weekday_nights_run_from_friday_into_saturday_but_not_from_sunday() -> None:
    # Sunday night is not a weekday night: Monday 03:00 is covered only by a Sunday window.
    weekday_nights_only = Schedule(SHANGHAI, (WEEKDAY_NIGHTS,))
    assert not weekday_nights_only.on_call_at(at(SHANGHAI, 2026, 5, 11, 3, 0))
    assert weekday_nights_only.on_call_at(at(SHANGHAI, 2026, 5, 16, 3, 0))  # Saturday 03:00, Friday's night


def test_windows_are_read_in_the_schedules_own_time_zone() -> None:
    new_yorker = Schedule(NEW_YORK, (WEEKDAY_NIGHTS,))
    evening_in_new_york = at(NEW_YORK, 2026, 5, 6, 19, 0)  # = Thursday 07:00 in Shanghai
    assert new_yorker.on_call_at(evening_in_new_york)
    assert new_yorker.on_call_at(evening_in_new_york.astimezone(SHANGHAI))  # the same moment, whatever its zone
    assert not Schedule(SHANGHAI, (WEEKDAY_NIGHTS,)).on_call_at(at(SHANGHAI, 2026, 5, 7, 9, 0))
    assert not new_yorker.on_call_at(at(NEW_YORK, 2026, 5, 6, 12, 0))


def test_a_night_window_over_the_spring_forward_change_is_an_hour_shorter() -> None:
    # 2026-03-08: New York's clocks jump from 02:00 to 03:00.
    nights = Schedule(NEW_YORK, (WeeklyWindow(frozenset(range(7)), time(22), time(6)),))
    [span] = nights.on_call_spans(at(NEW_YORK, 2026, 3, 7, 21, 0), at(NEW_YORK, 2026, 3, 8, 12, 0))
    assert span == (at(NEW_YORK, 2026, 3, 7, 22, 0).astimezone(UTC), at(NEW_YORK, 2026, 3, 8, 6, 0).astimezone(UTC))
    assert span[1] - span[0] == timedelta(hours=7)
    assert nights.on_call_at(datetime(2026, 3, 8, 7, 30, tzinfo=UTC))  # 03:30 EDT, just after the gap


def test_a_night_window_over_the_fall_back_change_is_an_hour_longer() -> None:
    # 2026-11-01: New York's clocks go back from 02:00 to 01:00.
    nights = Schedule(NEW_YORK, (WeeklyWindow(frozenset(range(7)), time(22), time(6)),))
    [span] = nights.on_call_spans(at(NEW_YORK, 2026, 10, 31, 21, 0), at(NEW_YORK, 2026, 11, 1, 12, 0))
    assert span[1] - span[0] == timedelta(hours=9)
    assert nights.on_call_at(datetime(2026, 11, 1, 6, 30, tzinfo=UTC))  # the second 01:30 (EST)


def test_a_window_starting_inside_the_spring_gap_begins_after_it() -> None:
    starts_in_gap = Schedule(NEW_YORK, (WeeklyWindow(frozenset(range(7)), time(2, 30), time(4)),))
    assert not starts_in_gap.on_call_at(datetime(2026, 3, 8, 6, 59, tzinfo=UTC))  # 01:59 EST
    assert starts_in_gap.on_call_at(datetime(2026, 3, 8, 7, 30, tzinfo=UTC))  # 03:30 EDT


def test_a_holiday_overrides_the_weekly_windows() -> None:
    holiday = DatedException(False, datetime(2026, 10, 1), datetime(2026, 10, 8), "National Day")
    schedule = Schedule(SHANGHAI, (WEEKDAY_NIGHTS, WEEKENDS), (holiday,))
    assert not schedule.on_call_at(at(SHANGHAI, 2026, 10, 3, 12, 0))  # a Saturday, but on holiday
    assert not schedule.on_call_at(at(SHANGHAI, 2026, 10, 7, 23, 0))
    assert schedule.on_call_at(at(SHANGHAI, 2026, 10, 8, 0, 30))  # Wednesday night's window, after the holiday
    assert schedule.next_change(at(SHANGHAI, 2026, 10, 3, 12, 0)) == at(SHANGHAI, 2026, 10, 8, 0, 0)


def test_a_swap_puts_someone_on_call_outside_their_windows_and_the_last_listed_exception_wins() -> None:
    holiday = DatedException(False, datetime(2026, 10, 1), datetime(2026, 10, 15))
    swap = DatedException(True, datetime(2026, 10, 10, 18), datetime(2026, 10, 11, 8), "for v-02")
    schedule = Schedule(SHANGHAI, (WEEKDAY_NIGHTS,), (holiday, swap))
    assert schedule.on_call_at(at(SHANGHAI, 2026, 10, 10, 20, 0))  # the swap, listed after the holiday
    assert not schedule.on_call_at(at(SHANGHAI, 2026, 10, 11, 9, 0))
    reversed_order = Schedule(SHANGHAI, (WEEKDAY_NIGHTS,), (swap, holiday))
    assert not reversed_order.on_call_at(at(SHANGHAI, 2026, 10, 10, 20, 0))


def test_spans_over_a_week_merge_touching_windows_and_next_change_finds_the_edges() -> None:
    start = at(SHANGHAI, 2026, 5, 4, 12, 0)  # Monday noon
    spans = VOLUNTEER.on_call_spans(start, start + timedelta(days=7))
    local = [(begin.astimezone(SHANGHAI), end.astimezone(SHANGHAI)) for begin, end in spans]
    # Friday 18:00 runs through the weekend to Monday 00:00: one span, not three.
    assert local[4] == (at(SHANGHAI, 2026, 5, 8, 18, 0), at(SHANGHAI, 2026, 5, 11, 0, 0))
    assert len(local) == 5
    assert VOLUNTEER.next_change(start) == at(SHANGHAI, 2026, 5, 4, 18, 0)
    assert VOLUNTEER.next_change(at(SHANGHAI, 2026, 5, 4, 19, 0)) == at(SHANGHAI, 2026, 5, 5, 8, 0)


@given(
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)),
    st.sampled_from([SHANGHAI, NEW_YORK, ZoneInfo("Europe/London"), ZoneInfo("Australia/Lord_Howe")]),
)
def test_spans_and_next_change_agree_with_on_call_at(moment: datetime, zone: ZoneInfo) -> None:
    schedule = Schedule(zone, (WEEKDAY_NIGHTS, WeeklyWindow(frozenset({5}), time(9), time(12))))
    spans = schedule.on_call_spans(moment, moment + timedelta(days=2))
    inside = any(begin <= moment < end for begin, end in spans)
    assert inside is schedule.on_call_at(moment)
    change = schedule.next_change(moment)
    assert change is not None and change > moment
    assert schedule.on_call_at(change) is not schedule.on_call_at(moment)
    assert schedule.on_call_at(change - timedelta(seconds=1)) is schedule.on_call_at(moment)


def test_schedules_round_trip_through_the_database_form() -> None:
    holiday = DatedException(False, datetime(2026, 10, 1), datetime(2026, 10, 8), "National Day")
    schedule = Schedule(SHANGHAI, (WEEKDAY_NIGHTS, WEEKENDS), (holiday,))
    assert Schedule.from_json(schedule.as_json(), SHANGHAI) == schedule


def test_days_are_written_as_names_ranges_or_words() -> None:
    assert parse_days(["mon-fri"]) == frozenset(range(5))
    assert parse_days(["weekdays"]) == frozenset(range(5))
    assert parse_days(["sat", "SUN"]) == frozenset({5, 6})
    assert parse_days(["fri-mon"]) == frozenset({4, 5, 6, 0})
    assert parse_days(["daily"]) == frozenset(range(7))
    with pytest.raises(ValueError, match="'someday' is not a day"):
        parse_days(["someday"])
    assert day_names(range(5)) == "mon-fri"
    assert day_names([5, 6]) == "sat, sun"
    assert day_names(range(7)) == "daily"

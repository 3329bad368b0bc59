"""A report's period: local calendar days (or exact times) turned into a UTC [start, end) range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class PeriodError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime  # aware, inclusive
    end: datetime  # aware, exclusive
    zone: ZoneInfo

    def local_days(self) -> list[date]:
        first = self.start.astimezone(self.zone).date()
        last = (self.end - timedelta(microseconds=1)).astimezone(self.zone).date()
        return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]

    def label(self) -> str:
        return f"{self.start.astimezone(self.zone):%Y-%m-%d %H:%M} – {self.end.astimezone(self.zone):%Y-%m-%d %H:%M}"


def parse_moment(text: str, zone: ZoneInfo, *, end_of_day: bool) -> datetime:
    """``2026-03-01`` (a local day: its start, or the next day's start for an end) or ISO 8601."""
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day + timedelta(days=1) if end_of_day else day, time(), zone)
        else:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
    except ValueError:
        raise PeriodError(f"{text!r} is not a date like 2026-03-01 or a time like 2026-03-01T08:00") from None
    return moment


def make_period(start_text: str, end_text: str, zone: ZoneInfo) -> Period:
    """The period from ``start_text`` to ``end_text`` inclusive of the end day when it is a date."""
    start = parse_moment(start_text, zone, end_of_day=False)
    end = parse_moment(end_text, zone, end_of_day=True)
    if end <= start:
        raise PeriodError("the end of the period must come after its start")
    if end - start > timedelta(days=3700):
        raise PeriodError("a report covers at most ten years")
    return Period(start=start, end=end, zone=zone)


def last_days(now: datetime, zone: ZoneInfo, days: int) -> Period:
    """The ``days`` local days up to and including today."""
    today = now.astimezone(zone).date()
    start = datetime.combine(today - timedelta(days=days - 1), time(), zone)
    return Period(start=start, end=datetime.combine(today + timedelta(days=1), time(), zone), zone=zone)

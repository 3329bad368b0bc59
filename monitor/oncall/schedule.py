"""A volunteer's on-call schedule: weekly windows in a named time zone, and dated exceptions.

Windows are local wall-clock times: "weekdays 18:00-08:00" starts at 18:00 local time on
each weekday and ends at 08:00 the next morning, whatever the UTC offset does in between
(a DST night makes it an hour shorter or longer). A window whose end is not after its
start runs past midnight; equal start and end mean a whole day. A time that falls in a
spring-forward gap is read with the offset before the change (02:30 becomes 03:30); an
ambiguous one on a fall-back night means its first occurrence.

A volunteer with no weekly windows is on call at all hours. A dated exception (a holiday,
a swap) overrides the weekly windows while it lasts; where exceptions overlap, the one
listed last decides.

Everything here is pure: moments in and out are aware datetimes, comparisons are in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_DAYS: frozenset[int] = frozenset(range(7))
#: How far ahead "until when" looks for the next change before saying "no change soon".
HORIZON = timedelta(days=8)


def local_moment(moment: datetime | date, zone: ZoneInfo) -> datetime:
    """A local wall-clock time (or the start of a local day) as an aware UTC moment."""
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time())
    return moment.replace(tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class WeeklyWindow:
    """On call on ``days`` (0 = Monday) from ``start`` until ``end`` local time."""

    days: frozenset[int]
    start: time
    end: time

    def occurrence(self, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The UTC span of the window that starts on local ``day``."""
        end_day = day if self.end > self.start else day + timedelta(days=1)
        return local_moment(datetime.combine(day, self.start), zone), local_moment(
            datetime.combine(end_day, self.end), zone
        )

    def as_json(self) -> dict[str, Any]:
        return {"days": sorted(self.days), "from": self.start.strftime("%H:%M"), "to": self.end.strftime("%H:%M")}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WeeklyWindow:
        days = frozenset(int(day) for day in data["days"])
        return cls(days, time.fromisoformat(data["from"]), time.fromisoformat(data["to"]))


@dataclass(frozen=True, slots=True)
class DatedException:
    """From ``start`` until ``end`` (local wall-clock, end exclusive) the volunteer is, or is not, on call."""

    on_call: bool
    start: datetime  # naive, local
    end: datetime  # naive, local
    note: str = ""

    def span(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        return local_moment(self.start, zone), local_moment(self.end, zone)

    def as_json(self) -> dict[str, Any]:
        return {
            "on_call": self.on_call,
            "from": self.start.isoformat(timespec="minutes"),
            "to": self.end.isoformat(timespec="minutes"),
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DatedException:
        return cls(
            bool(data["on_call"]),
            datetime.fromisoformat(data["from"]),
            datetime.fromisoformat(data["to"]),
            str(data.get("note", "")),
        )


@dataclass(frozen=True, slots=True)
class Schedule:
    zone: ZoneInfo
    windows: tuple[WeeklyWindow, ...] = ()
    exceptions: tuple[DatedException, ...] = ()

    @property
    def always(self) -> bool:
        """On call at all hours: no weekly windows and no exceptions."""
        return not self.windows and not self.exceptions

    def on_call_at(self, moment: datetime) -> bool:
        for exception in reversed(self.exceptions):
            start, end = exception.span(self.zone)
            if start <= moment < end:
                return exception.on_call
        if not self.windows:
            return True
        today = moment.astimezone(self.zone).date()
        for window in self.windows:
            # A window lasts at most a day, so only those starting yesterday or today can cover now.
            for day in (today - timedelta(days=1), today):
                if day.weekday() in window.days:
                    start, end = window.occurrence(day, self.zone)
                    if start <= moment < end:
                        return True
        return False

    def on_call_spans(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The UTC spans within [start, end) when the volunteer is on call, merged and in order."""
        points = [start, *(point for point in self._boundaries(start, end) if start < point < end), end]
        spans: list[tuple[datetime, datetime]] = []
        for begin, finish in pairwise(points):
            if begin >= finish or not self.on_call_at(begin):
                continue
            if spans and spans[-1][1] == begin:
                spans[-1] = (spans[-1][0], finish)
            else:
                spans.append((begin, finish))
        return spans

    def next_change(self, moment: datetime, horizon: timedelta = HORIZON) -> datetime | None:
        """When on-call status next differs from what it is at ``moment``; None if not within ``horizon``."""
        now_on = self.on_call_at(moment)
        for point in self._boundaries(moment, moment + horizon):
            if point > moment and self.on_call_at(point) != now_on:
                return point
        return None

    def _boundaries(self, start: datetime, end: datetime) -> list[datetime]:
        """Every moment in or near [start, end] at which on-call status may change, sorted."""
        points: set[datetime] = set()
        first = start.astimezone(self.zone).date() - timedelta(days=1)
        last = end.astimezone(self.zone).date()
        day = first
        while day <= last:
            for window in self.windows:
                if day.weekday() in window.days:
                    points.update(window.occurrence(day, self.zone))
            day += timedelta(days=1)
        for exception in self.exceptions:
            points.update(exception.span(self.zone))
        return sorted(point for point in points if start <= point <= end)

    def as_json(self) -> dict[str, Any]:
        return {
            "on_call": [window.as_json() for window in self.windows],
            "exceptions": [exception.as_json() for exception in self.exceptions],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None, zone: ZoneInfo) -> Schedule:
        data = data or {}
        return cls(
            zone,
            tuple(WeeklyWindow.from_json(window) for window in data.get("on_call", [])),
            tuple(DatedException.from_json(exception) for exception in data.get("exceptions", [])),
        )


def parse_days(tokens: Iterable[str]) -> frozenset[int]:
    """``["mon-fri"]``, ``["sat", "sun"]``, ``["weekdays"]``, ``["daily"]`` -> day numbers (0 = Monday).

    Raises ValueError naming the token it cannot read.
    """
    days: set[int] = set()
    for token in tokens:
        word = token.strip().lower()
        if word in ("daily", "everyday", "all"):
            days |= ALL_DAYS
        elif word == "weekdays":
            days |= set(range(5))
        elif word in ("weekends", "weekend"):
            days |= {5, 6}
        elif word in DAY_NAMES:
            days.add(DAY_NAMES.index(word))
        elif "-" in word and all(part in DAY_NAMES for part in word.split("-", 1)):
            first, last = (DAY_NAMES.index(part) for part in word.split("-", 1))
            days |= {(first + step) % 7 for step in range((last - first) % 7 + 1)}
        else:
            raise ValueError(
                f'{token!r} is not a day; use mon, tue, wed, thu, fri, sat, sun, a range like "mon-fri", '
                '"weekdays", "weekends" or "daily"'
            )
    return frozenset(days)


def day_names(days: Sequence[int] | frozenset[int]) -> str:
    """Day numbers as short text: "mon-fri", "sat, sun", "daily"."""
    chosen = sorted(days)
    if set(chosen) == ALL_DAYS:
        return "daily"
    if chosen and chosen == list(range(chosen[0], chosen[-1] + 1)) and len(chosen) > 2:
        return f"{DAY_NAMES[chosen[0]]}-{DAY_NAMES[chosen[-1]]}"
    return ", ".join(DAY_NAMES[day] for day in chosen)

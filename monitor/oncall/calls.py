"""Whether a person may be called now, as their directory entry says.

A volunteer with ``voice = false`` is never called: tiers that call reach them by SMS only.
One with ``voice_hours = "22:00-07:00"`` is called only inside those hours, in their own time
zone (the service's when they have none); outside them, SMS only. An end not after the start
runs past midnight, as on-call windows do. Family contacts and volunteers without either key
are called whenever a tier calls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from monitor.oncall.standing import zone_of
from monitor.store.models import Volunteer

_HOURS = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-3]):([0-5][0-9])")


@dataclass(frozen=True, slots=True)
class CallHours:
    """Local hours a person may be called in: from ``start`` until ``end`` (past midnight when end <= start)."""

    start: time
    end: time

    def contains(self, moment: datetime, zone: ZoneInfo) -> bool:
        local = moment.astimezone(zone).time()
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


def parse_call_hours(text: str) -> CallHours:
    """``"22:00-07:00"``; ValueError with the sentence's end for anything else."""
    match = _HOURS.fullmatch(text.strip())
    if match is None:
        raise ValueError(f'must be two times of day as "HH:MM-HH:MM", like "22:00-07:00" (got {text!r})')
    hours = CallHours(time(int(match[1]), int(match[2])), time(int(match[3]), int(match[4])))
    if hours.start == hours.end:
        raise ValueError(f"starts and ends at the same time ({text!r}); leave it out to allow calls at all hours")
    return hours


def takes_calls(volunteer: Volunteer | None, now: datetime, default_zone: ZoneInfo) -> bool:
    """Whether ``volunteer`` (None: a family contact) may be called at ``now``."""
    if volunteer is None:
        return True
    if not volunteer.voice:
        return False
    if not volunteer.voice_hours:
        return True
    try:
        hours = parse_call_hours(volunteer.voice_hours)
    except ValueError:
        return True  # the directory checks it; a row written otherwise errs towards calling
    return hours.contains(now, zone_of(volunteer, default_zone))

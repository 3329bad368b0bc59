"""A taken alert's follow-through timer: when its holder is reminded, and when it is overdue.

The timer is the alert row's ``follow_up`` (the next step) and ``follow_up_at`` (when), as an
open alert's escalation timer is its ``next_escalation_at``: a monitor killed and restarted
finds it there, and the step that runs moves it on in the same transaction, so no step runs
twice (docs/architecture.md, invariant 2).

    taken ──half-way──► remind_arrival ──deadline──► arrival_due  (asked again, flagged overdue)
    on site ──half-way──► remind_resolve ──deadline──► resolve_due (duty staff told, flagged)

The arrival deadline is ``arrive_within`` after the holder took the alert, or sooner when an
ETA they gave has passed by more than its own length (ten minutes said, twenty gone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from monitor.alerts.lifecycle import AlertState
from monitor.store.models import Alert


class FollowUp(StrEnum):
    REMIND_ARRIVAL = "remind_arrival"
    ARRIVAL_DUE = "arrival_due"
    REMIND_RESOLVE = "remind_resolve"
    RESOLVE_DUE = "resolve_due"


@dataclass(frozen=True, slots=True)
class Deadlines:
    """A policy's follow-through: from taking an alert to arriving, and from arriving to resolving it."""

    arrive_within: timedelta
    resolve_within: timedelta


def arrival_deadline(alert: Alert, deadlines: Deadlines) -> datetime | None:
    """When the holder of ``alert`` should be there at the latest; None when nobody holds it."""
    if alert.taken_at is None:
        return None
    deadline = alert.taken_at + deadlines.arrive_within
    if alert.eta is not None and alert.en_route_at is not None:
        deadline = min(deadline, alert.eta + (alert.eta - alert.en_route_at))
    return deadline


def stamp(moment: datetime | None) -> str:
    """A taking or an arrival in a message's unique key: each message goes once per taking (or
    arrival), and a later one is another occasion."""
    return f"{moment.timestamp():.0f}" if moment is not None else "-"


def schedule(alert: Alert, deadlines: Deadlines, now: datetime, *, after: FollowUp | None = None) -> None:
    """Set the next follow-up step of ``alert`` after the step ``after`` ran (None: its state just
    began, or its ETA changed). A reminder whose time has already passed is left out: the
    deadline comes next."""
    alert.follow_up, alert.follow_up_at = _next(alert, deadlines, now, after)


def _next(
    alert: Alert, deadlines: Deadlines, now: datetime, after: FollowUp | None
) -> tuple[str | None, datetime | None]:
    state = AlertState(alert.state)
    if state in (AlertState.ACKNOWLEDGED, AlertState.EN_ROUTE):
        deadline = arrival_deadline(alert, deadlines)
        if deadline is None or after is FollowUp.ARRIVAL_DUE:
            return None, None
        assert alert.taken_at is not None  # (a deadline means someone took it)
        reminder = alert.taken_at + (deadline - alert.taken_at) / 2
        if after is None and reminder > now:
            return FollowUp.REMIND_ARRIVAL.value, reminder
        return FollowUp.ARRIVAL_DUE.value, deadline
    if state is AlertState.ON_SITE and alert.on_site_at is not None and after is not FollowUp.RESOLVE_DUE:
        reminder = alert.on_site_at + deadlines.resolve_within / 2
        if after is None and reminder > now:
            return FollowUp.REMIND_RESOLVE.value, reminder
        return FollowUp.RESOLVE_DUE.value, alert.on_site_at + deadlines.resolve_within
    return None, None

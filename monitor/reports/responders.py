"""Responder figures: how soon someone was with the resident, beside the answering figures.

The telecare responder target: on site for 90 % of calls within 45 minutes and for all of them
within 60. A call needed a responder when it is urgent (SOS, fall), was not cancelled, and did
not end as a false alarm or handled by phone; one nobody reached counts as not on site in time.
With fewer than ``ENOUGH_CALLS`` such calls a share says little, and the report says so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import ScalarSelect

from monitor.alerts.lifecycle import URGENT_KINDS, AlertState, Outcome
from monitor.reports.measures import Durations, Share
from monitor.store.models import Alert, AlertEvent, Area, Volunteer

TARGET_45_MIN = 0.90
TARGET_60_MIN = 1.0
#: Below this many calls that needed a responder, the shares are shown but marked too few to judge.
ENOUGH_CALLS = 20
URGENT = frozenset(kind.value for kind in URGENT_KINDS)
#: Ended without anyone needing to go.
NO_VISIT_NEEDED = frozenset({Outcome.FALSE_ALARM.value, Outcome.HANDLED_BY_PHONE.value})


@dataclass(frozen=True, slots=True)
class ResponderFigures:
    """One group's responder figures (the whole report, an area, or a volunteer)."""

    key: str
    name: str
    calls: int
    arrivals: int
    within_45: Share
    within_60: Share
    press_to_on_site: Durations
    taken_to_on_site: Durations
    handed_back: int
    overdue: int

    @property
    def enough(self) -> bool:
        """Enough calls for the shares to mean something."""
        return self.calls >= ENOUGH_CALLS


@dataclass(frozen=True, slots=True)
class Responders:
    overall: ResponderFigures
    areas: list[ResponderFigures] = field(default_factory=list)
    volunteers: list[ResponderFigures] = field(default_factory=list)


def needed_a_responder(alert: Alert) -> bool:
    return alert.kind in URGENT and alert.state != AlertState.CANCELLED and alert.outcome not in NO_VISIT_NEEDED


async def responder_figures(session: AsyncSession, alerts: Sequence[Alert], alert_ids: ScalarSelect[Any]) -> Responders:
    """The responder figures of ``alerts`` (the report's), overall, per area, and per volunteer who
    arrived or handed an alert back (a volunteer's calls are the ones they arrived at)."""
    handed_back = Counter(
        actor.split(":", 1)[1]
        for alert_id, actor in (
            await session.execute(
                select(AlertEvent.alert_id, AlertEvent.actor).where(
                    AlertEvent.alert_id.in_(alert_ids),
                    AlertEvent.kind == "reopened",
                    AlertEvent.actor.like("volunteer:%"),
                )
            )
        ).all()
        if alert_id is not None
    )
    handed_back_by_alert = Counter(
        (
            await session.scalars(
                select(AlertEvent.alert_id).where(
                    AlertEvent.alert_id.in_(alert_ids),
                    AlertEvent.kind == "reopened",
                    AlertEvent.actor.like("volunteer:%") | AlertEvent.actor.like("family:%"),
                )
            )
        ).all()
    )
    called = [alert for alert in alerts if needed_a_responder(alert)]
    areas = dict((await session.execute(select(Area.id, Area.name))).all())
    volunteer_ids = {alert.on_site_by for alert in called if alert.on_site_by} | set(handed_back)
    names = dict(
        (await session.execute(select(Volunteer.id, Volunteer.name).where(Volunteer.id.in_(volunteer_ids)))).all()
    )
    arrived_by = _grouped(called, lambda alert: alert.on_site_by)
    return Responders(
        _figures("all", "all", called, sum(handed_back_by_alert[alert.id] for alert in called)),
        [
            _figures(area_id, areas.get(area_id, area_id), members, sum(handed_back_by_alert[a.id] for a in members))
            for area_id, members in _grouped(called, lambda alert: alert.area_id).items()
        ],
        [
            _figures(
                volunteer_id,
                names.get(volunteer_id, volunteer_id),
                arrived_by.get(volunteer_id, []),
                handed_back[volunteer_id],
            )
            for volunteer_id in sorted(volunteer_ids)
        ],
    )


def _grouped(alerts: Sequence[Alert], key: Callable[[Alert], str | None]) -> dict[str, list[Alert]]:
    groups: dict[str, list[Alert]] = {}
    for alert in alerts:
        value = key(alert)
        if value is not None:
            groups.setdefault(value, []).append(alert)
    return dict(sorted(groups.items()))


def _figures(key: str, name: str, alerts: Sequence[Alert], handed_back: int) -> ResponderFigures:
    arrived = [alert for alert in alerts if alert.on_site_at is not None]
    press_to_on_site = [(alert.on_site_at - alert.raised_at).total_seconds() for alert in arrived if alert.on_site_at]
    taken_to_on_site = [
        (alert.on_site_at - alert.taken_at).total_seconds() for alert in arrived if alert.on_site_at and alert.taken_at
    ]
    return ResponderFigures(
        key=key,
        name=name,
        calls=len(alerts),
        arrivals=len(arrived),
        within_45=Share(sum(seconds <= 45 * 60 for seconds in press_to_on_site), len(alerts), TARGET_45_MIN),
        within_60=Share(sum(seconds <= 60 * 60 for seconds in press_to_on_site), len(alerts), TARGET_60_MIN),
        press_to_on_site=Durations.of(press_to_on_site),
        taken_to_on_site=Durations.of(taken_to_on_site),
        handed_back=handed_back,
        overdue=sum(alert.overdue for alert in alerts),
    )

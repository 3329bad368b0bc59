"""The figures of a report, computed from the alerts, SMS and audit log of a period (the
responder figures beside them: ``monitor.reports.responders``).

The answer-time figures (time to acknowledgement, shares within 60 s and 180 s) are about
urgent alerts (SOS, fall), the calls the telecare targets are set for: 97.5 % answered
within 60 s and 99 % within 180 s. An alert the resident cancelled before anyone took it
is left out of them; one nobody took counts as not answered in time.
Percentiles are nearest-rank: p90 is the smallest time at least 90 % of the alerts beat.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import ScalarSelect

from monitor.actions.call_answers import is_call_key
from monitor.actions.responses import ReplyOutcome
from monitor.alerts.lifecycle import URGENT_KINDS, AlertKind, AlertState, Outcome
from monitor.notify.requests import SMS, VOICE, Purpose
from monitor.reports.measures import Durations, Share
from monitor.reports.period import Period
from monitor.reports.responders import Responders, needed_a_responder, responder_figures
from monitor.store.models import Alert, AlertEvent, Area, InboundSms, Notification, Organisation, Volunteer

TARGET_60S = 0.975
TARGET_180S = 0.99
URGENT = frozenset(kind.value for kind in URGENT_KINDS)


@dataclass(frozen=True, slots=True)
class VolunteerLoad:
    volunteer_id: str
    name: str
    asked: int
    took: int
    declined: int


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    alerts: int
    urgent: int
    answered_60s: int
    #: SOS and fall calls that needed someone there, and how many had someone there within 45 minutes
    responder_calls: int = 0
    on_site_45_min: int = 0


@dataclass(frozen=True, slots=True)
class Report:
    period: Period
    area_id: str | None
    area_name: str | None
    total: int
    by_kind: dict[str, int]
    by_state: dict[str, int]
    first_sms: Durations
    to_acknowledge: Durations
    within_60s: Share
    within_180s: Share
    unanswered: int
    outcomes: dict[str, int]
    volunteers: list[VolunteerLoad] = field(default_factory=list)
    days: list[Day] = field(default_factory=list)
    responders: Responders | None = None
    #: asks to take an alert, per channel ("sms", "voice")
    asks_by_channel: dict[str, int] = field(default_factory=dict)
    #: alerts taken, per the way the taker answered: "sms", "voice" (a key), "console" (or the API)
    taken_by_channel: dict[str, int] = field(default_factory=dict)
    #: the organisation reported on (its areas' alerts); None: one area, or the whole service
    organisation_id: str | None = None
    organisation_name: str | None = None

    @property
    def channels(self) -> list[str]:
        """Every channel people were asked on or took alerts by, asks' first."""
        return list(dict.fromkeys([*self.asks_by_channel, *self.taken_by_channel]))


async def build_report(
    session: AsyncSession,
    period: Period,
    area_id: str | None = None,
    *,
    organisation_id: str | None = None,
    within_areas: Collection[str] | None = None,
) -> Report:
    """The period's figures for one area, one organisation (its areas), these areas
    (``within_areas``), or the whole service."""
    in_period = select(Alert).where(Alert.raised_at >= period.start, Alert.raised_at < period.end)
    if area_id:
        in_period = in_period.where(Alert.area_id == area_id)
    if within_areas is not None:
        in_period = in_period.where(Alert.area_id.in_(sorted(within_areas)))
    if organisation_id:
        in_period = in_period.where(Alert.area_id.in_(select(Area.id).where(Area.organisation_id == organisation_id)))
    alerts = (await session.scalars(in_period.order_by(Alert.raised_at))).all()
    alert_ids = in_period.with_only_columns(Alert.id).scalar_subquery()

    first_sent = dict(
        (
            await session.execute(
                select(Notification.alert_id, func.min(Notification.sent_at))
                .where(Notification.alert_id.in_(alert_ids), Notification.purpose == Purpose.ALERT.value)
                .group_by(Notification.alert_id)
            )
        ).all()
    )
    first_sms = [
        (sent - alert.raised_at).total_seconds() for alert in alerts if (sent := first_sent.get(alert.id)) is not None
    ]

    answerable = [
        alert
        for alert in alerts
        if alert.kind in URGENT and not (alert.state == AlertState.CANCELLED and alert.acknowledged_at is None)
    ]
    waits = [
        (alert.acknowledged_at - alert.raised_at).total_seconds()
        for alert in answerable
        if alert.acknowledged_at is not None
    ]
    area = await session.get(Area, area_id) if area_id else None
    organisation = await session.get(Organisation, organisation_id) if organisation_id else None
    return Report(
        period=period,
        area_id=area_id,
        area_name=area.name if area else None,
        total=len(alerts),
        by_kind=_ordered_counts(Counter(alert.kind for alert in alerts), [kind.value for kind in AlertKind]),
        by_state=_ordered_counts(Counter(alert.state for alert in alerts), [state.value for state in AlertState]),
        first_sms=Durations.of(first_sms),
        to_acknowledge=Durations.of(waits),
        within_60s=Share(sum(wait <= 60 for wait in waits), len(answerable), TARGET_60S),
        within_180s=Share(sum(wait <= 180 for wait in waits), len(answerable), TARGET_180S),
        unanswered=sum(alert.unanswered for alert in alerts),
        outcomes=_ordered_counts(
            Counter(alert.outcome for alert in alerts if alert.outcome), [outcome.value for outcome in Outcome]
        ),
        volunteers=await _volunteer_load(session, alerts, alert_ids),
        days=_days(period, alerts),
        responders=await responder_figures(session, alerts, alert_ids),
        asks_by_channel=await _asks_by_channel(session, alert_ids),
        taken_by_channel=await _taken_by_channel(session, alerts, alert_ids),
        organisation_id=organisation_id,
        organisation_name=organisation.name if organisation else None,
    )


async def _asks_by_channel(session: AsyncSession, alert_ids: ScalarSelect[Any]) -> dict[str, int]:
    counts = (
        await session.execute(
            select(Notification.channel, func.count())
            .where(Notification.alert_id.in_(alert_ids), Notification.purpose == Purpose.ALERT.value)
            .group_by(Notification.channel)
        )
    ).all()
    return _ordered_counts(Counter({channel: int(count) for channel, count in counts}), [SMS, VOICE])


async def _taken_by_channel(
    session: AsyncSession, alerts: Sequence[Alert], alert_ids: ScalarSelect[Any]
) -> dict[str, int]:
    """How each taken alert was taken: the reply that took it (an SMS, or a key on a call), else
    the console or the API."""
    replies = (
        await session.execute(
            select(InboundSms.alert_id, InboundSms.provider_id)
            .where(InboundSms.alert_id.in_(alert_ids), InboundSms.outcome == ReplyOutcome.ACKNOWLEDGED.value)
            .order_by(InboundSms.id)
        )
    ).all()
    first_reply: dict[int | None, str] = {}
    for alert_id, provider_id in replies:  # a second ACK from the taker is acknowledged too
        first_reply.setdefault(alert_id, provider_id)
    by_reply = Counter(VOICE if is_call_key(provider_id) else SMS for provider_id in first_reply.values())
    taken = sum(alert.acknowledged_at is not None for alert in alerts)
    by_reply["console"] = max(0, taken - sum(by_reply.values()))
    return _ordered_counts(+by_reply, [SMS, VOICE, "console"])


def _ordered_counts(counts: Counter[str], order: list[str]) -> dict[str, int]:
    known = {key: counts[key] for key in order if counts[key]}
    return known | {key: count for key, count in sorted(counts.items()) if key not in known}


async def _volunteer_load(
    session: AsyncSession, alerts: Sequence[Alert], alert_ids: ScalarSelect[Any]
) -> list[VolunteerLoad]:
    """Per volunteer: how many of the period's alerts they were asked to take (alerts, not SMS:
    a reminder round asks again about the same one), took, and declined."""
    asked = Counter(
        volunteer_id
        for volunteer_id, _ in (
            await session.execute(
                select(Notification.volunteer_id, Notification.alert_id)
                .where(
                    Notification.alert_id.in_(alert_ids),
                    Notification.purpose == Purpose.ALERT.value,
                    Notification.volunteer_id.is_not(None),
                )
                .distinct()
            )
        ).all()
    )
    # acknowledged_by is a volunteer id, or "user:<name>", "api", "family:<id>" for others who took it
    took = Counter(
        alert.acknowledged_by for alert in alerts if alert.acknowledged_by and ":" not in alert.acknowledged_by
    )
    took.pop("api", None)
    declined = Counter(
        actor.removeprefix("volunteer:")
        for actor in (
            await session.scalars(
                select(AlertEvent.actor).where(
                    AlertEvent.alert_id.in_(alert_ids),
                    AlertEvent.kind == "declined",
                    AlertEvent.actor.like("volunteer:%"),
                )
            )
        ).all()
    )
    ids = {volunteer_id for volunteer_id in asked if volunteer_id} | set(took)
    names = dict((await session.execute(select(Volunteer.id, Volunteer.name).where(Volunteer.id.in_(ids)))).all())
    loads = [
        VolunteerLoad(
            volunteer_id,
            names.get(volunteer_id, volunteer_id),
            asked[volunteer_id],
            took[volunteer_id],
            declined[volunteer_id],
        )
        for volunteer_id in ids
    ]
    return sorted(loads, key=lambda load: (-load.asked, -load.took, load.volunteer_id))


def _days(period: Period, alerts: Sequence[Alert]) -> list[Day]:
    per_day: dict[date, list[Alert]] = defaultdict(list)
    for alert in alerts:
        per_day[alert.raised_at.astimezone(period.zone).date()].append(alert)
    days = []
    for day in period.local_days():
        those = per_day.get(day, [])
        urgent = [alert for alert in those if alert.kind in URGENT]
        answered = sum(
            alert.acknowledged_at is not None and (alert.acknowledged_at - alert.raised_at).total_seconds() <= 60
            for alert in urgent
        )
        called = [alert for alert in those if needed_a_responder(alert)]
        on_site = sum(
            alert.on_site_at is not None and (alert.on_site_at - alert.raised_at).total_seconds() <= 45 * 60
            for alert in called
        )
        days.append(Day(day, len(those), len(urgent), answered, len(called), on_site))
    return days

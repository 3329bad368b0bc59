"""Telling people about device health without waking anyone one SMS per device.

- Duty staff (every active volunteer of role ``staff``): one SMS listing the open
  device-health alerts they have not yet been told about, at most every ``[supervision] staff_sms_every_s``.
  The first one after a quiet spell goes at once; what comes while the gap runs waits for
  the next. The console shows every alert live in any case.
- Each area team (the area's volunteers and leaders): one digest a day at ``[supervision] digest_at``,
  listing the device-health alerts of their area since the last digest and whether each
  is over. Sent later the same day if the monitor was down at that time; never twice a day.

Neither asks for a reply: staff act in the console, volunteers when they visit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.alerts.lifecycle import HEALTH_KINDS, AlertKind, AlertState
from monitor.alerts.log import log_entry
from monitor.core.effects import Effects
from monitor.notify.requests import Purpose, queue_sms
from monitor.notify.texts import HealthItem, MessageStyle, area_digest, health_report
from monitor.oncall.people import duty_staff, staff
from monitor.store.models import (
    Alert,
    AlertDevice,
    Area,
    Device,
    Resident,
    ServiceMeta,
    Volunteer,
    VolunteerArea,
)
from monitor.watch.rules import SupervisionRules

STAFF_SMS_AT_KEY = "supervision.staff_sms_at"
HEALTH_KIND_VALUES = [kind.value for kind in HEALTH_KINDS]
DIGEST_ROLES = ("volunteer", "leader")
#: open device-health alerts duty staff have not been told about
STAFF_NEWS = select(Alert).where(
    Alert.kind.in_(HEALTH_KIND_VALUES), Alert.state == AlertState.OPEN.value, Alert.staff_told_at.is_(None)
)


def _digest_news(moment: datetime) -> Select[Alert]:
    """Device-health alerts raised before ``moment`` that no digest has listed yet."""
    return select(Alert).where(
        Alert.kind.in_(HEALTH_KIND_VALUES),
        Alert.digest_told_at.is_(None),
        Alert.area_id.is_not(None),
        Alert.raised_at < moment,
    )


class HealthReports:
    def __init__(self, style: MessageStyle, rules: SupervisionRules) -> None:
        self.style = style
        self.rules = rules

    async def staff_due(self, session: AsyncSession, now: datetime) -> bool:
        """Whether duty staff have news waiting and the gap since their last SMS has run."""
        last = await session.get(ServiceMeta, STAFF_SMS_AT_KEY)
        if last is not None and now < datetime.fromisoformat(last.value) + self.rules.staff_sms_gap:
            return False
        return await session.scalar(STAFF_NEWS.with_only_columns(Alert.id).limit(1)) is not None

    async def digest_due(self, session: AsyncSession, now: datetime) -> bool:
        """Whether today's digest time has come with alerts not yet in a digest."""
        moment = self.digest_time(now)
        return (
            now >= moment
            and await session.scalar(_digest_news(moment).with_only_columns(Alert.id).limit(1)) is not None
        )

    def digest_time(self, now: datetime) -> datetime:
        """Today's digest time, in the service's time zone."""
        return datetime.combine(
            now.astimezone(self.style.timezone).date(), self.rules.digest_at, tzinfo=self.style.timezone
        )

    async def tell_staff(self, session: AsyncSession, effects: Effects, now: datetime) -> int:
        """Send duty staff the untold open device-health alerts, unless the gap has not run; how many."""
        last = await session.get(ServiceMeta, STAFF_SMS_AT_KEY, with_for_update=True)
        if last is not None and now < datetime.fromisoformat(last.value) + self.rules.staff_sms_gap:
            return 0
        untold = (await session.scalars(STAFF_NEWS.order_by(Alert.id).with_for_update(skip_locked=True))).all()
        if not untold:
            return 0
        duty = await staff(session)
        for volunteer, theirs in (await _staff_news(session, duty, untold)).values():
            items = [await self._item(session, alert) for alert in theirs]
            notification_id = await queue_sms(
                session,
                effects,
                phone=volunteer.phone,
                message=health_report(items, volunteer.language, self.style),
                purpose=Purpose.HEALTH,
                now=now,
                volunteer_id=volunteer.id,
                key=f"health:staff:{now.isoformat()}:{volunteer.phone}",
            )
            self._log(
                session,
                theirs,
                now,
                f"in the device report SMS to {volunteer.name} ({volunteer.phone})",
                notification_id,
            )
        if not duty:
            self._log(session, untold, now, "no duty staff phone (role staff) in the directory to tell", None)
        for alert in untold:
            alert.staff_told_at = now
            effects.changed_alert_ids.add(alert.id)
        await session.merge(ServiceMeta(key=STAFF_SMS_AT_KEY, value=now.isoformat()))
        return len(untold)

    async def send_digests(self, session: AsyncSession, effects: Effects, now: datetime) -> int:
        """Once today's digest time has come, send each area team its digest; how many alerts it covered."""
        moment = self.digest_time(now)
        if now < moment:
            return 0
        untold = (
            await session.scalars(_digest_news(moment).order_by(Alert.id).with_for_update(skip_locked=True))
        ).all()
        by_area: dict[str, list[Alert]] = defaultdict(list)
        for alert in untold:
            assert alert.area_id is not None  # the query's condition
            by_area[alert.area_id].append(alert)
        for area_id, alerts in by_area.items():
            area = await session.get(Area, area_id)
            items = [await self._item(session, alert) for alert in alerts]
            for volunteer in await _area_team(session, area_id):
                notification_id = await queue_sms(
                    session,
                    effects,
                    phone=volunteer.phone,
                    message=area_digest(area.name if area else area_id, items, volunteer.language, self.style),
                    purpose=Purpose.HEALTH,
                    now=now,
                    volunteer_id=volunteer.id,
                    key=f"health:digest:{area_id}:{moment.date().isoformat()}:{volunteer.phone}",
                )
                self._log(
                    session, alerts, now, f"in {volunteer.name}'s daily digest ({volunteer.phone})", notification_id
                )
            for alert in alerts:
                alert.digest_told_at = now
        return len(untold)

    async def _item(self, session: AsyncSession, alert: Alert) -> HealthItem:
        ended = alert.state in (AlertState.RESOLVED.value, AlertState.CANCELLED.value)
        if alert.kind == AlertKind.AREA_OUTAGE:
            area = await session.get(Area, alert.area_id) if alert.area_id else None
            count = await session.scalar(
                select(func.count()).select_from(AlertDevice).where(AlertDevice.alert_id == alert.id)
            )
            return HealthItem(alert.kind, area.name if area else "?", alert.raised_at, devices=count, ended=ended)
        device = await session.get(Device, alert.device_id) if alert.device_id else None
        resident = await session.get(Resident, alert.resident_id) if alert.resident_id else None
        name = resident.name if resident else None
        if device is not None and alert.kind == AlertKind.LOW_BATTERY:
            return HealthItem(alert.kind, device.id, alert.raised_at, name, battery=device.battery, ended=ended)
        since = device.offline_at if device is not None and device.offline_at is not None else alert.raised_at
        return HealthItem(alert.kind, str(alert.device_id), since, name, ended=ended)

    def _log(
        self, session: AsyncSession, alerts: Sequence[Alert], now: datetime, detail: str, notification_id: int | None
    ) -> None:
        for alert in alerts:
            log_entry(session, alert.id, at=now, kind="notified", detail=detail, notification_id=notification_id)


async def _staff_news(
    session: AsyncSession, duty: Sequence[Volunteer], alerts: Sequence[Alert]
) -> dict[str, tuple[Volunteer, list[Alert]]]:
    """Per staff phone, the alerts it hears of: each alert goes to the staff of the organisation
    owning its area, else to the service-wide ones (``duty_staff``); one SMS per phone."""
    area_ids = {alert.area_id for alert in alerts if alert.area_id}
    owners = dict((await session.execute(select(Area.id, Area.organisation_id).where(Area.id.in_(area_ids)))).all())
    news: dict[str, tuple[Volunteer, list[Alert]]] = {}
    for alert in alerts:
        for volunteer in duty_staff(duty, owners.get(alert.area_id) if alert.area_id else None):
            news.setdefault(volunteer.phone, (volunteer, []))[1].append(alert)
    return news


async def _area_team(session: AsyncSession, area_id: str) -> list[Volunteer]:
    """The area's active volunteers and leaders (duty staff get their own report)."""
    return list(
        (
            await session.scalars(
                select(Volunteer)
                .join(VolunteerArea, VolunteerArea.volunteer_id == Volunteer.id)
                .where(VolunteerArea.area_id == area_id, Volunteer.active.is_(True), Volunteer.role.in_(DIGEST_ROLES))
                .order_by(Volunteer.id)
            )
        ).all()
    )

"""The monitors page (``GET /monitors``): which monitors are alive and which one holds what.

Each monitor noted in ``monitor_instances`` (``monitor.store.monitor_instances``): alive, stopped
(cleanly: a planned stop) or gone (died: its work was taken over, duty staff are told once it
has been gone ``[mqtt] failover_s``, ``monitor.runtime.gone_monitors``) and since when; for one
alive, its share of the SMS sender's rate, the SMS it has claimed (being handed to the provider
now) and the broker sessions of dead monitors it took over. Only PostgreSQL runs several
monitors; on SQLite the page says there is one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from monitor.notify.rate_share import share_of
from monitor.notify.requests import SMS, NotificationStatus
from monitor.store.models import MonitorInstance, Notification
from monitor.store.monitor_instances import alive
from monitor.web.auth import require_user
from monitor.web.services import context_of, services_of


class Standing(StrEnum):
    ALIVE = "alive"
    STOPPED = "stopped"
    GONE = "gone"


@dataclass(frozen=True, slots=True)
class TakenOver:
    """A dead monitor's broker session that a monitor alive took over: draining, or drained."""

    client_id: str
    drained_at: datetime | None


@dataclass(frozen=True, slots=True)
class MonitorLine:
    instance_id: str
    client_id: str | None
    standing: Standing
    #: its last note (alive), when it stopped, or when it was last heard (gone)
    since: datetime
    #: SMS per second it may send (alive only)
    sms_rate_share: float | None
    claimed_sms: int
    taken_over: list[TakenOver] = field(default_factory=list)
    #: gone: when duty staff were told, and by which monitor
    alarmed_at: datetime | None = None
    alarmed_by: str | None = None


@dataclass(frozen=True, slots=True)
class MonitorsView:
    now: datetime
    several: bool
    lines: list[MonitorLine]
    sms_rate_per_s: float
    failover_s: float

    @property
    def alive(self) -> int:
        return sum(1 for line in self.lines if line.standing is Standing.ALIVE)

    @property
    def gone(self) -> int:
        return sum(1 for line in self.lines if line.standing is Standing.GONE)


async def load_monitors(
    session: AsyncSession, now: datetime, gone_after: timedelta, sms_rate_per_s: float
) -> list[MonitorLine]:
    """Every monitor noted on this database, the ones alive first."""
    rows = (
        await session.execute(
            select(MonitorInstance, alive(now, gone_after).label("alive")).order_by(MonitorInstance.instance_id)
        )
    ).all()
    claimed = dict(
        (
            await session.execute(
                select(Notification.claimed_by, func.count())
                .where(Notification.status == NotificationStatus.CLAIMED, Notification.channel == SMS)
                .group_by(Notification.claimed_by)
            )
        ).all()
    )
    taken_over: dict[str, list[TakenOver]] = defaultdict(list)
    for row, _ in rows:
        if row.adopted_by is not None:
            taken_over[row.adopted_by].append(TakenOver(row.mqtt_client_id or row.instance_id, row.drained_at))
    running = sum(1 for _, is_alive in rows if is_alive)
    lines = [
        MonitorLine(
            instance_id=row.instance_id,
            client_id=row.mqtt_client_id,
            standing=_standing(row, is_alive),
            since=row.stopped_at if row.stopped_at is not None and not is_alive else row.seen_at,
            sms_rate_share=share_of(sms_rate_per_s, running) if is_alive else None,
            claimed_sms=claimed.get(row.instance_id, 0),
            taken_over=taken_over[row.instance_id],
            alarmed_at=row.alarmed_at,
            alarmed_by=row.alarmed_by,
        )
        for row, is_alive in rows
    ]
    return sorted(lines, key=lambda line: line.standing is not Standing.ALIVE)


def _standing(row: MonitorInstance, is_alive: bool) -> Standing:
    if is_alive:
        return Standing.ALIVE
    return Standing.STOPPED if row.stopped_at is not None else Standing.GONE


async def monitors_page(request: Request) -> Response:
    principal = await require_user(request)
    context = context_of(request)
    settings = context.settings
    now = context.clock.now()
    several = not context.database.is_sqlite
    lines: list[MonitorLine] = []
    if several:
        async with context.database.read() as session:
            lines = await load_monitors(
                session, now, timedelta(seconds=settings.mqtt.gone_after_s), settings.sms.send_rate_per_s
            )
    view = MonitorsView(
        now=now,
        several=several,
        lines=lines,
        sms_rate_per_s=settings.sms.send_rate_per_s,
        failover_s=settings.mqtt.failover_s,
    )
    return services_of(request).renderer.render(request, "monitors.html", principal, view=view)

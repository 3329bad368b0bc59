"""Which monitors run on this database: each notes in ``monitor_instances`` that it is alive.

The sender's rate is shared among the monitors alive (``monitor.notify.rate_share``); the
claims of one that is gone are settled by the others (``monitor.notify.outbox``) and its broker
session is drained by a survivor (``monitor.ingest.failover``). A monitor is alive while its
last note is younger than ``gone_after`` (``[mqtt] failover_s`` / 2); the hosts' clocks must
agree to well within that (NTP). A dead monitor's row stays after its session is drained, so
that the console shows it gone and duty staff are told once (``monitor.runtime.gone_monitors``),
until it comes back or for ``FORGOTTEN_AFTER``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.store.models import MonitorInstance
from monitor.store.statements import insert_or_update

#: rows of monitors gone with no session left to drain are deleted this long after their last note
#: (a monitor that never comes back is shown gone for a week, then taken for retired)
FORGOTTEN_AFTER = timedelta(days=7)
#: a monitor that stopped is noted this much beyond ``gone_after``: gone for everyone at once
STOPPED_MARGIN = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class PastLife:
    """The row of a monitor gone, deleted because a monitor alive holds its broker session again."""

    instance_id: str
    mqtt_client_id: str
    seen_at: datetime
    #: it stopped cleanly (None: it died)
    stopped_at: datetime | None
    #: when duty staff were told it was gone, if they were
    alarmed_at: datetime | None


@dataclass(frozen=True, slots=True)
class GoneMonitor:
    """A monitor that died: silent since ``seen_at`` without having stopped."""

    instance_id: str
    mqtt_client_id: str | None
    seen_at: datetime


async def note_alive(
    session: AsyncSession, instance_id: str, now: datetime, gone_after: timedelta, mqtt_client_id: str | None = None
) -> list[PastLife]:
    """``instance_id`` is alive at ``now`` (holding the broker session ``mqtt_client_id``, if given);
    the monitors back: the rows of earlier lives of a session held again.

    The rows of monitors gone are deleted once nothing is left to do or show for them: at once
    when a monitor alive holds their session again (they came back), ``FORGOTTEN_AFTER`` after
    their last note when they name no session or it was drained. A row naming a session nobody
    holds stays until a survivor has drained that session, however long that takes."""
    values: dict[str, object] = {"instance_id": instance_id, "seen_at": now}
    if mqtt_client_id is not None:
        values["mqtt_client_id"] = mqtt_client_id
    await insert_or_update(session, MonitorInstance, values, ["instance_id"])
    back = await session.execute(
        delete(MonitorInstance)
        .where(~alive(now, gone_after), MonitorInstance.mqtt_client_id.in_(held_sessions(now, gone_after)))
        .returning(
            MonitorInstance.instance_id,
            MonitorInstance.mqtt_client_id,
            MonitorInstance.seen_at,
            MonitorInstance.stopped_at,
            MonitorInstance.alarmed_at,
        )
    )
    await session.execute(
        delete(MonitorInstance).where(
            ~alive(now, gone_after),
            MonitorInstance.seen_at < now - FORGOTTEN_AFTER,
            or_(MonitorInstance.mqtt_client_id.is_(None), MonitorInstance.drained_at.is_not(None)),
        )
    )
    return [
        PastLife(instance_id, str(client_id), seen_at, stopped_at, alarmed_at)
        for instance_id, client_id, seen_at, stopped_at, alarmed_at in back.all()
    ]


def alive(now: datetime, gone_after: timedelta) -> ColumnElement[bool]:
    """The rows of monitors that noted themselves alive within ``gone_after``."""
    return MonitorInstance.seen_at >= now - gone_after


def alive_ids(now: datetime, gone_after: timedelta) -> Select[str]:
    """The instance ids of the monitors alive, for ``IN`` / ``NOT IN``."""
    return select(MonitorInstance.instance_id).where(alive(now, gone_after))


def held_sessions(now: datetime, gone_after: timedelta) -> Select[str | None]:
    """The MQTT client ids (broker sessions) that monitors alive hold, for ``IN`` / ``NOT IN``."""
    return select(MonitorInstance.mqtt_client_id).where(
        alive(now, gone_after), MonitorInstance.mqtt_client_id.is_not(None)
    )


async def leave(session: AsyncSession, instance_id: str, now: datetime, gone_after: timedelta) -> None:
    """``instance_id`` stops: it counts as gone at once. A row naming a broker session stays,
    its last note put back beyond ``gone_after``, so that a survivor drains that session (what
    the broker hands it while this monitor is stopped goes to the living) and deletes the row."""
    mine = MonitorInstance.instance_id == instance_id
    await session.execute(
        update(MonitorInstance)
        .where(mine, MonitorInstance.mqtt_client_id.is_not(None))
        .values(seen_at=now - gone_after - STOPPED_MARGIN, stopped_at=now)
    )
    await session.execute(delete(MonitorInstance).where(mine, MonitorInstance.mqtt_client_id.is_(None)))


async def gone_untold(session: AsyncSession, now: datetime, silent_for: timedelta, *, asking: str) -> list[GoneMonitor]:
    """The monitors other than ``asking`` that died (did not stop) and have been silent for
    ``silent_for``, duty staff not yet told. The one asking is alive, whatever its row says: its
    own note may be old after the clock jumped or its loop stalled."""
    rows = await session.execute(
        select(MonitorInstance.instance_id, MonitorInstance.mqtt_client_id, MonitorInstance.seen_at)
        .where(
            MonitorInstance.instance_id != asking,
            MonitorInstance.seen_at < now - silent_for,
            MonitorInstance.stopped_at.is_(None),
            MonitorInstance.alarmed_at.is_(None),
        )
        .order_by(MonitorInstance.seen_at)
    )
    return [GoneMonitor(*row) for row in rows.all()]


async def claim_alarm(session: AsyncSession, instance_id: str, by: str, now: datetime) -> bool:
    """Whether the monitor ``by`` is the one to tell duty staff that ``instance_id`` is gone: the
    first to mark its row (a second survivor's update waits for the first one's commit, then
    finds it marked), and only ever once for that monitor, whoever restarts meanwhile."""
    marked = await session.scalar(
        update(MonitorInstance)
        .where(MonitorInstance.instance_id == instance_id, MonitorInstance.alarmed_at.is_(None))
        .values(alarmed_at=now, alarmed_by=by)
        .returning(MonitorInstance.instance_id)
    )
    return marked is not None

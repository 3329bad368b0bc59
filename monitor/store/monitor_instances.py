"""Which monitors run on this database: each notes in ``monitor_instances`` that it is alive.

The sender's rate is shared among the monitors alive (``monitor.notify.rate_share``); the
claims of one that is gone are settled by the others (``monitor.notify.outbox``) and its broker
session is drained by a survivor (``monitor.ingest.failover``). A monitor is alive while its
last note is younger than ``gone_after`` (``[mqtt] failover_s`` / 2); the hosts' clocks must
agree to well within that (NTP).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.store.models import MonitorInstance
from monitor.store.statements import insert_or_update

#: rows of monitors gone that name no broker session are deleted after this (they would only grow the table)
FORGOTTEN_AFTER = timedelta(hours=1)
#: a monitor that stopped is noted this much beyond ``gone_after``: gone for everyone at once
STOPPED_MARGIN = timedelta(seconds=1)


async def note_alive(
    session: AsyncSession, instance_id: str, now: datetime, gone_after: timedelta, mqtt_client_id: str | None = None
) -> None:
    """``instance_id`` is alive at ``now`` (holding the broker session ``mqtt_client_id``, if given).

    The rows of monitors gone are deleted once nothing is left to do for them: at once when a
    monitor alive holds their session again (they restarted), after ``FORGOTTEN_AFTER`` when
    they name no session. A row naming a session nobody holds stays until a survivor has
    drained that session, however long that takes."""
    values: dict[str, object] = {"instance_id": instance_id, "seen_at": now}
    if mqtt_client_id is not None:
        values["mqtt_client_id"] = mqtt_client_id
    await insert_or_update(session, MonitorInstance, values, ["instance_id"])
    held = held_sessions(now, gone_after)
    await session.execute(
        delete(MonitorInstance).where(
            ~alive(now, gone_after),
            or_(
                MonitorInstance.mqtt_client_id.in_(held),
                MonitorInstance.mqtt_client_id.is_(None) & (MonitorInstance.seen_at < now - FORGOTTEN_AFTER),
            ),
        )
    )


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
        .values(seen_at=now - gone_after - STOPPED_MARGIN)
    )
    await session.execute(delete(MonitorInstance).where(mine, MonitorInstance.mqtt_client_id.is_(None)))

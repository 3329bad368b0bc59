"""Duty staff hear of a monitor that died and stayed dead, so that someone fixes its host.

With several monitors a dead one costs no SOS (its work is taken over within ``[mqtt]
failover_s``, ``monitor.ingest.failover``), which is why nobody would notice it: the next
failure then has one monitor fewer to fall back on. So every monitor alive looks, as often as
it notes itself alive, for monitors silent longer than ``failover_s`` that did not stop cleanly
(a planned stop raises nothing), and raises the duty alarm about each (``DutyAlarm.monitor_gone``):
the first survivor to mark the dead monitor's row in ``monitor_instances`` sends it, once, so
neither a second survivor nor a survivor restarted sends it again. A monitor that comes back is
logged by itself (``SessionFailover.note_alive``). Only on PostgreSQL: on SQLite there is one monitor.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from monitor.config.settings import MqttSettings
from monitor.core.clock import Clock
from monitor.core.loop_stop import LoopStop
from monitor.runtime.duty_alarm import DutyAlarm
from monitor.store.database import Database, is_unavailable
from monitor.store.monitor_instances import gone_untold

log = logging.getLogger("callwatch.gone_monitors")


class GoneMonitors:
    def __init__(self, settings: MqttSettings, database: Database, clock: Clock, alarm: DutyAlarm) -> None:
        self.database = database
        self.clock = clock
        self.alarm = alarm
        self.every_s = settings.alive_every_s
        self.silent_for = timedelta(seconds=settings.failover_s)

    async def check(self) -> int:
        """Raise the alarm about each monitor gone that duty staff were not told of; how many this one raised."""
        async with self.database.read() as session:
            gone = await gone_untold(session, self.clock.now(), self.silent_for, asking=self.alarm.instance_id)
        raised = 0
        for monitor in gone:
            raised += await self.alarm.monitor_gone(monitor)
        return raised

    async def run(self, stop: LoopStop) -> None:
        while not stop.requested:
            try:
                await self.check()
            except Exception as exc:
                if not is_unavailable(exc):
                    log.exception("looking for monitors gone failed; retrying")
                else:
                    log.error("cannot look for monitors gone: the database is not answering (%s)", exc)
            await stop.idle(self.every_s)

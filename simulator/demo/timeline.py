"""The monitor's alert log, printed as it is written: every raise, SMS, reply, escalation.

Woken by the monitor's live alert changes (the console's feed), it reads the log entries
written since the last one it printed; a slow pass merges changes and loses nothing.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from monitor.live.changes import AlertChanges
from monitor.notify.texts import KIND_NAMES
from monitor.store.database import Database
from monitor.store.models import Alert, AlertEvent, Area, Resident
from simulator.demo.printer import Printer

#: read the log at least this often, even when nothing said it changed
POLL_S = 2.0


class AlertTimeline:
    def __init__(self, database: Database, changes: AlertChanges, printer: Printer) -> None:
        self.database = database
        self.changes = changes
        self.printer = printer
        self._last_id = 0

    async def follow(self, until: asyncio.Event) -> None:
        """Print new log entries until ``until`` is set.

        Never cancelled: a database read cut short by cancellation could leave its connection
        behind, so the loop only ever stops between reads.
        """
        async with self.changes.subscribe() as subscriber:
            while not until.is_set():
                await self.print_new()
                changed = asyncio.ensure_future(subscriber.next_changes())
                stopping = asyncio.ensure_future(until.wait())
                await asyncio.wait({changed, stopping}, timeout=POLL_S, return_when=asyncio.FIRST_COMPLETED)
                for waiter in (changed, stopping):
                    waiter.cancel()
            await self.print_new()

    async def print_new(self) -> None:
        async with self.database.read() as session:
            rows = (
                await session.execute(
                    select(AlertEvent, Alert, Resident.name, Area.name)
                    .join(Alert, Alert.id == AlertEvent.alert_id)
                    .outerjoin(Resident, Resident.id == Alert.resident_id)
                    .outerjoin(Area, Area.id == Alert.area_id)
                    .where(AlertEvent.id > self._last_id)
                    .order_by(AlertEvent.id)
                )
            ).all()
        for entry, alert, resident, area in rows:
            self._last_id = max(self._last_id, entry.id)
            kind = KIND_NAMES["en"].get(alert.kind, alert.kind)
            who = resident or area or ""
            detail = f": {entry.detail}" if entry.detail else ""
            actor = f" by {entry.actor}" if entry.actor not in ("system", "") else ""
            self.printer.line(f"alert #{alert.id} {kind} {who} — {entry.kind}{actor}{detail}", entry.kind)

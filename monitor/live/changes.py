"""Live alert changes for whoever watches (the console's event stream).

Subscribers get the ids of alerts that changed, after the change committed. A slow
subscriber loses nothing that matters: ids are merged while it is behind, and it re-reads
the alerts themselves from the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager


class AlertChanges:
    def __init__(self) -> None:
        self._subscribers: set[_Subscriber] = set()

    def publish(self, alert_ids: Iterable[int]) -> None:
        changed = set(alert_ids)
        for subscriber in self._subscribers:
            subscriber.add(changed)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[_Subscriber]:
        subscriber = _Subscriber()
        self._subscribers.add(subscriber)
        try:
            yield subscriber
        finally:
            self._subscribers.discard(subscriber)


class _Subscriber:
    def __init__(self) -> None:
        self._pending: set[int] = set()
        self._ready = asyncio.Event()

    def add(self, alert_ids: set[int]) -> None:
        self._pending |= alert_ids
        self._ready.set()

    async def next_changes(self) -> set[int]:
        """Wait for and take every alert id changed since the last call."""
        await self._ready.wait()
        self._ready.clear()
        changed, self._pending = self._pending, set()
        return changed

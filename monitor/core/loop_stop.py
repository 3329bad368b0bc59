"""Stopping the service's loops between units of work, never inside a transaction.

Cancelling a task while it awaits the database can leave a pooled connection checked out
for the garbage collector to find (SQLAlchemy then logs a traceback at exit) and cuts a
transaction off at an arbitrary line. So each loop waits through ``LoopStop.idle`` and ends
when stop is requested; only a loop that does not end in time is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib


class LoopStop:
    def __init__(self) -> None:
        self._requested = asyncio.Event()

    def request(self) -> None:
        self._requested.set()

    @property
    def requested(self) -> bool:
        return self._requested.is_set()

    async def idle(self, seconds: float, wake: asyncio.Event | None = None) -> bool:
        """Wait ``seconds`` (less if ``wake`` is set); False once stop is requested: end the loop."""
        waiters = {asyncio.ensure_future(self._requested.wait())}
        if wake is not None:
            waiters.add(asyncio.ensure_future(wake.wait()))
        try:
            await asyncio.wait(waiters, timeout=max(0.0, seconds), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter
        return not self.requested

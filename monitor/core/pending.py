"""A count of things under way, and a wait (bounded) until none is.

The escalation loop counts the SMS it handed over until the provider answers them, and the
database counts urgent bursts while bookkeeping waits for them to end: the same small thing.
"""

from __future__ import annotations

import asyncio
import contextlib


class PendingCount:
    def __init__(self) -> None:
        self._count = 0
        self._none = asyncio.Event()
        self._none.set()

    def add(self) -> None:
        self._count += 1
        self._none.clear()

    def done(self) -> None:
        self._count -= 1
        if not self._count:
            self._none.set()

    async def wait_none(self, within_s: float) -> None:
        """Return once nothing is under way, or after ``within_s`` whatever is."""
        if self._none.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._none.wait(), within_s)

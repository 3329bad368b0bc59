"""The gate in front of the provider: at most N requests at once, at most R a second, most urgent first.

A provider takes messages from one sender at a fixed rate and queues the rest first come,
first served (Twilio holds them for hours). If callwatch handed over everything at once, an
SOS ask would wait behind every device-health report already handed over. So callwatch
keeps the queue itself: requests wait here, in order of priority (lower first) and then
arrival (within a priority, by rank: an ask about an SOS before one about a missed check-in),
and are let through at the sender's rate. An SOS ask waits only for the one
request slot it needs, never for bookkeeping: the gate is in memory and takes no lock.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class SendGate:
    def __init__(self, *, rate_per_s: float, concurrency: int) -> None:
        if rate_per_s <= 0 or concurrency < 1:
            raise ValueError("a send gate needs a positive rate and at least one request at a time")
        self.rate_per_s = rate_per_s
        #: a second's worth of requests may go at once after a quiet spell, never more
        self.burst = max(1.0, rate_per_s)
        self.concurrency = concurrency
        self._clock = asyncio.get_running_loop().time
        self._tokens = self.burst
        self._refilled_at = self._clock()
        self._in_flight = 0
        self._waiting: list[tuple[int, int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    def set_rate(self, rate_per_s: float) -> None:
        """Go on at ``rate_per_s`` (the monitors sharing the sender changed)."""
        if rate_per_s <= 0:
            raise ValueError("a send gate needs a positive rate")
        self._refill()
        self.rate_per_s = rate_per_s
        self.burst = max(1.0, rate_per_s)
        self._tokens = min(self._tokens, self.burst)
        self._dispatch()

    @asynccontextmanager
    async def turn(self, priority: int, rank: int = 0) -> AsyncIterator[None]:
        """Wait for this request's turn; the slot is held until the block ends."""
        await self._acquire(priority, rank)
        try:
            yield
        finally:
            self._in_flight -= 1
            self._dispatch()

    async def _acquire(self, priority: int, rank: int) -> None:
        ticket: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, rank, next(self._arrivals), ticket))
        self._dispatch()
        try:
            await ticket
        except BaseException:
            if ticket.done() and not ticket.cancelled():
                # The turn came just as we were cancelled: give the slot back.
                self._in_flight -= 1
                self._dispatch()
            raise

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._refilled_at) * self.rate_per_s)
        self._refilled_at = now

    def _dispatch(self) -> None:
        """Let the most urgent waiters through while there are slots and tokens."""
        self._refill()
        while self._waiting and self._in_flight < self.concurrency:
            *_, ticket = self._waiting[0]
            if ticket.done():  # cancelled while waiting
                heapq.heappop(self._waiting)
                continue
            if self._tokens < 1:
                self._wake_in((1 - self._tokens) / self.rate_per_s)
                return
            heapq.heappop(self._waiting)
            self._tokens -= 1
            self._in_flight += 1
            ticket.set_result(None)

    def _wake_in(self, seconds: float) -> None:
        if self._timer is not None and not self._timer.cancelled():
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(seconds, self._dispatch)

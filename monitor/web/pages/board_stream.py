"""The live board's Server-Sent Events stream.

Each open console gets the ids of alerts changed since its last message (from the
monitor's ``AlertChanges``), and fetches the rows it needs itself. A comment every
``HEARTBEAT_S`` keeps proxies from closing the connection and re-checks the session, so a
signed-out or deactivated user stops receiving. ``LiveStreams.close`` ends every stream at
once when the server stops, instead of letting them hold up the shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable

from monitor.live.changes import AlertChanges

HEARTBEAT_S = 15.0
#: Tells the browser how soon to reconnect after a dropped connection.
RETRY_MS = 2000


class LiveStreams:
    def __init__(self) -> None:
        self._closing = asyncio.Event()

    def close(self) -> None:
        self._closing.set()

    async def events(
        self,
        changes: AlertChanges,
        still_allowed: Callable[[], Awaitable[bool]],
        visible: Callable[[set[int]], Awaitable[set[int]]],
    ) -> AsyncIterator[str]:
        """SSE text for one console until it disconnects, is signed out, or the server stops;
        ``visible``: which changed alerts this console's scope sees (it hears of no other)."""
        async with changes.subscribe() as subscriber:
            yield f"retry: {RETRY_MS}\nevent: hello\ndata: {{}}\n\n"
            closing = asyncio.create_task(self._closing.wait())
            changed: asyncio.Task[set[int]] | None = None
            try:
                while not closing.done():
                    if changed is None:
                        changed = asyncio.create_task(subscriber.next_changes())
                    done, _ = await asyncio.wait({changed, closing}, timeout=HEARTBEAT_S, return_when="FIRST_COMPLETED")
                    if changed in done:
                        seen = await visible(changed.result())
                        if seen:
                            yield f"event: changed\ndata: {json.dumps(sorted(seen))}\n\n"
                        changed = None
                    elif not done:
                        if not await still_allowed():
                            yield "event: signed-out\ndata: {}\n\n"
                            break
                        yield ": still here\n\n"
            finally:
                for task in (changed, closing):
                    if task is not None:
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await task

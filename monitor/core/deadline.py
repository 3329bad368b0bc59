"""Waiting for something that may hang, without hanging with it.

``asyncio.wait_for`` cancels the awaited work at the deadline and then waits for the
cancellation to finish, and cancelling a call to a database that stopped answering can
itself hang (the driver tries to tell the server). ``finish_within`` gives up at the
deadline and leaves the abandoned work to end whenever it can.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

T = TypeVar("T")


async def finish_within(work: Awaitable[T], seconds: float) -> T:
    """``work``'s result, or TimeoutError after ``seconds`` (``work`` is then cancelled, not awaited)."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        task.add_done_callback(_collect)
        task.cancel()
        raise TimeoutError(f"no result within {seconds:g} s")
    return task.result()


def _collect(task: asyncio.Future[Any]) -> None:
    """Retrieve an abandoned task's outcome, so asyncio does not report it as never retrieved."""
    if not task.cancelled():
        task.exception()

"""Bounded waits on what a user could observe: never sleep-and-hope."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
POLL_S = 0.05


async def until(check: Callable[[], T | Awaitable[T]], *, within_s: float = 15.0, what: str = "condition") -> T:
    """Poll ``check`` until it returns something truthy (and return that); TimeoutError after ``within_s``."""
    deadline = time.monotonic() + within_s
    while True:
        result = check()
        value = await result if inspect.isawaitable(result) else result
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {within_s} s (last: {value!r})")
        await asyncio.sleep(POLL_S)

"""Bounded waits for conditions the tests watch: a failing test ends with a message, never hangs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def wait_until(condition: Callable[[], bool], *, within_s: float = 10.0, what: str = "") -> None:
    """Return as soon as ``condition()`` holds; fail after ``within_s`` seconds."""
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"never happened within {within_s} s: {what or condition}")
        await asyncio.sleep(0.02)

"""A loop's sign of life: each long-running loop beats its ``Heartbeat`` as it turns, and the
watchdog (``monitor.runtime.watchdog``) ends a monitor whose loop has gone silent."""

from __future__ import annotations

import time


class Heartbeat:
    """One loop's sign of life."""

    def __init__(self, loop: str) -> None:
        self.loop = loop
        self._at = time.monotonic()

    def beat(self) -> None:
        self._at = time.monotonic()

    @property
    def silent_s(self) -> float:
        return time.monotonic() - self._at

"""The monitor watches itself: a loop that stops turning is a fault nobody would otherwise see.

The ingest and escalation loops beat a ``Heartbeat`` every time they turn, also while they
wait for work or retry a database that is away (that is degraded service, shown on
/healthz, not a stall). A loop that has not beaten for ``[service] watchdog_stall_s`` is
stuck: on a database that accepts connections but never answers, on a lock, on a bug.
Then the watchdog

1. marks the monitor unhealthy and writes the fault to the log;
2. raises a duty alarm (``monitor.runtime.duty_alarm``): an SMS to every duty-staff phone;
3. ends the monitor with ``LoopStalled``, which ``callwatch run`` turns into exit code
   ``EXIT_STALLED`` so the service manager restarts it (systemd ``Restart=on-failure``).

While every loop is fresh it also pets systemd's watchdog (``WatchdogSec``), so a monitor
whose event loop itself is blocked, and can run none of this, is restarted by systemd. A
thread (``LastResort``) backs it all up: it ends the process if the event loop is blocked
or if a clean exit after a stall does not finish.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType

from monitor.core.deadline import finish_within
from monitor.core.health import Health
from monitor.core.heartbeat import Heartbeat
from monitor.core.loop_stop import LoopStop
from monitor.runtime.sd_notify import SystemdNotifier

log = logging.getLogger("callwatch.watchdog")

#: `callwatch run`'s exit code when the watchdog ended it (EX_SOFTWARE).
EXIT_STALLED = 70
CHECK_EVERY_S = 1.0
#: how long the duty alarm may take before the monitor exits anyway
ALARM_TIMEOUT_S = 15.0
#: how long a clean exit may take after a stall before the process is ended hard (at least)
HARD_STOP_AFTER_S = 10.0


class LoopStalled(Exception):
    def __init__(self, loop: str, silent_s: float) -> None:
        super().__init__(f"the {loop} loop made no progress for {silent_s:.0f} s")
        self.loop = loop
        self.silent_s = silent_s


class LastResort:
    """A thread that ends the process when asyncio cannot: its event loop is blocked (the
    watchdog task stopped beating while watching), or the exit after a stall hangs.

    Entered for the monitor's whole life, so it outlives the loops it guards."""

    def __init__(self, *, stall_after_s: float, exit_code: int) -> None:
        self.stall_after_s = stall_after_s
        self.exit_code = exit_code
        self.hard_stop_after_s = max(HARD_STOP_AFTER_S, stall_after_s / 2)
        #: beaten by the watchdog task: proof the event loop still runs tasks
        self.event_loop = Heartbeat("event")
        self._watching = False
        self._armed_at: float | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="callwatch-last-resort", daemon=True)

    def __enter__(self) -> LastResort:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._done.set()
        self._thread.join()

    def watching(self, on: bool) -> None:
        """Whether the event loop is expected to beat (not while starting or stopping)."""
        self.event_loop.beat()
        self._watching = on

    def arm(self) -> None:
        """A stall was declared: the process must be gone within ``hard_stop_after_s``."""
        self._armed_at = time.monotonic()

    def _watch(self) -> None:
        while not self._done.wait(CHECK_EVERY_S):
            armed_at = self._armed_at
            if armed_at is not None and time.monotonic() - armed_at > self.hard_stop_after_s:
                self._end(f"the monitor did not stop within {self.hard_stop_after_s:.0f} s of a stalled loop")
            if self._watching and armed_at is None and self.event_loop.silent_s > self.stall_after_s:
                self._end(f"the event loop has been blocked for {self.event_loop.silent_s:.0f} s")

    def _end(self, reason: str) -> None:
        print(f"callwatch: {reason}; ending the process (exit {self.exit_code})", file=sys.stderr, flush=True)
        os._exit(self.exit_code)


class Watchdog:
    def __init__(
        self,
        heartbeats: Sequence[Heartbeat],
        *,
        stall_after_s: float,
        health: Health,
        alarm: Callable[[str, float], Awaitable[None]],
        notifier: SystemdNotifier,
        last_resort: LastResort,
    ) -> None:
        self.heartbeats = heartbeats
        self.stall_after_s = stall_after_s
        self.health = health
        self.alarm = alarm
        self.notifier = notifier
        self.last_resort = last_resort

    def stalled(self) -> Heartbeat | None:
        """The loop silent for longest, if it has been silent too long."""
        silent = max(self.heartbeats, key=lambda heartbeat: heartbeat.silent_s)
        return silent if silent.silent_s >= self.stall_after_s else None

    async def run(self, stop: LoopStop) -> None:
        """Watch until stopped; raise ``LoopStalled`` once a loop stalls."""
        every = min(CHECK_EVERY_S, self.stall_after_s / 3)
        self.last_resort.watching(True)
        try:
            while (stuck := self.stalled()) is None:
                self.last_resort.event_loop.beat()
                self.notifier.watchdog()
                self.health.mark("loops", ok=True, detail="ingest and escalation turning")
                if not await stop.idle(every):
                    return
        finally:
            self.last_resort.watching(False)
        silent_s = stuck.silent_s
        sentence = f"the {stuck.loop} loop made no progress for {silent_s:.0f} s; telling duty staff and restarting"
        log.critical(sentence)
        self.health.mark("loops", ok=False, detail=sentence)
        self.last_resort.arm()
        try:
            await finish_within(self.alarm(stuck.loop, silent_s), ALARM_TIMEOUT_S)
        except Exception:
            log.exception("the duty alarm about the stalled %s loop could not be raised", stuck.loop)
        raise LoopStalled(stuck.loop, silent_s)

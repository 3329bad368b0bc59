"""Alert changes between monitors sharing one PostgreSQL: LISTEN/NOTIFY.

Each monitor serves consoles of its own, but a change may be committed by any of them (a
press ingested there, an SMS reply posted to it, a timer it ran). After each commit the
monitor announces the changed alert ids with NOTIFY; every monitor LISTENs on a dedicated
connection and hands what the others announce to its own ``AlertChanges``, so each console
hears of every change within moments, whichever monitor made it.

Announcing never holds up the work that committed: ids are gathered and a background
sender NOTIFYs them (many at once under load). A NOTIFY reaches only sessions listening
when it commits, so after every (re)connection the consoles are told to re-read everything
(an empty change: the board refreshes); a quiet connection is checked every couple of
seconds, since a dropped one says so only when used. SQLite has one monitor and needs none
of this.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from types import TracebackType
from typing import NoReturn

import asyncpg
from sqlalchemy.engine import make_url

from monitor.live.changes import AlertChanges

log = logging.getLogger("callwatch.live")

CHANNEL = "callwatch_alert_changes"
#: how these connections show in pg_stat_activity
APPLICATION_NAME = "callwatch live changes"
#: ids per NOTIFY: well under PostgreSQL's 8,000-byte payload limit
IDS_PER_NOTIFY = 500
#: a quiet connection is checked this often: a dropped one says so only when used
KEEPALIVE_S = 2.0
RECONNECT_FIRST_S = 0.5
RECONNECT_MAX_S = 10.0


class PostgresAlertFeed:
    """Async context manager owning the LISTEN/NOTIFY connection for ``database_url``."""

    def __init__(self, database_url: str, changes: AlertChanges) -> None:
        self._dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._changes = changes
        self._waiting: set[int] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        #: set once listening: tests and start-up can wait for it
        self.listening = asyncio.Event()

    async def __aenter__(self) -> PostgresAlertFeed:
        self._task = asyncio.create_task(self._run(), name="alert-feed")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def announce(self, alert_ids: Iterable[int]) -> None:
        """Tell the other monitors these alerts changed (sent in the background)."""
        self._waiting.update(alert_ids)
        if self._waiting:
            self._wake.set()

    async def _run(self) -> None:
        delay = RECONNECT_FIRST_S
        while True:
            try:
                connection = await asyncpg.connect(
                    self._dsn, timeout=RECONNECT_MAX_S, server_settings={"application_name": APPLICATION_NAME}
                )
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                log.warning("live changes from other monitors paused: cannot connect to PostgreSQL: %s", exc)
            else:
                try:
                    await self._serve(connection)
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                    log.warning("live changes from other monitors paused: %s", exc)
                    delay = RECONNECT_FIRST_S  # it was up: try again soon
                finally:
                    self.listening.clear()
                    with contextlib.suppress(Exception):
                        await asyncio.shield(connection.close(timeout=2))
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_S)

    async def _serve(self, connection: asyncpg.Connection) -> NoReturn:
        """Listen and send on ``connection`` until it fails."""
        own_pid = connection.get_server_pid()

        def heard(_connection: object, pid: int, _channel: str, payload: str) -> None:
            if pid != own_pid:  # our own announcements come back too: our consoles have them already
                self._changes.publish(int(part) for part in payload.split(",") if part.isdigit())

        await connection.add_listener(CHANNEL, heard)
        self.listening.set()
        self._changes.publish(())  # anything announced while we were not listening: re-read it all
        log.info("listening for alert changes made by other monitors")
        while True:  # until the connection fails: sending or the keepalive raises
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=KEEPALIVE_S)
            self._wake.clear()
            if self._waiting:
                await self._send(connection)
            else:
                await connection.fetchval("SELECT 1", timeout=KEEPALIVE_S)

    async def _send(self, connection: asyncpg.Connection) -> None:
        ids, self._waiting = sorted(self._waiting), set()
        try:
            for start in range(0, len(ids), IDS_PER_NOTIFY):
                payload = ",".join(str(alert_id) for alert_id in ids[start : start + IDS_PER_NOTIFY])
                await connection.execute("SELECT pg_notify($1, $2)", CHANNEL, payload, timeout=KEEPALIVE_S)
        except BaseException:
            self._waiting.update(ids)  # announced again on the next connection (a repeat is harmless)
            raise

"""The database connection: one ``Database`` owns the engine and hands out transactions.

Writers take ``Database.write()``. On SQLite, that is one process-wide writer at a time
(an asyncio lock in front of ``BEGIN IMMEDIATE``), so the ingest, escalation and sending
loops queue instead of spinning on SQLITE_BUSY, and urgent writers (a press, a timer, a
reply) go before bookkeeping (delivery reports). On PostgreSQL, writers run concurrently
and take row locks (``FOR UPDATE SKIP LOCKED``) where they claim work.

On both, an urgent burst (``Database.urgent_burst``: a thousand alerts due at once) holds
back bookkeeping (records nobody waits on: an SMS reached the provider, a delivery report,
retention) until it is over, for at most ``BOOKKEEPING_WAITS_AT_MOST_S``: the process has one
core's worth of Python, and every such record written in the middle of a storm makes the
storm's last SMS later. People's own actions (the console, sign-in) are not held back.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from monitor.core.errors import UserError
from monitor.core.pending import PendingCount
from monitor.store.sqlite_inline import inline_connector, mark_bulk

SQLITE_BUSY_TIMEOUT_MS = 10_000
#: the key of ``Session.info`` naming the monitor that writes through the session
WRITING_INSTANCE = "callwatch_instance_id"
#: well under the 15 s a provider waits for a webhook's answer (delivery reports wait on this)
BOOKKEEPING_WAITS_AT_MOST_S = 5.0
T = TypeVar("T")


class WriterQueue:
    """One writer at a time, urgent ones first, then first come first served."""

    def __init__(self) -> None:
        self._busy = False
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    async def acquire(self, urgent: bool) -> None:
        if not self._busy and not self._waiting:
            self._busy = True
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (0 if urgent else 1, next(self._arrivals), turn))
        try:
            await turn
        except BaseException:
            if turn.done() and not turn.cancelled():
                self.release()  # the turn came just as we were cancelled: pass it on
            raise

    def release(self) -> None:
        while self._waiting:
            _, _, turn = heapq.heappop(self._waiting)
            if not turn.done():
                turn.set_result(None)  # handed over: stays busy
                return
        self._busy = False


class DatabaseUnavailable(UserError):
    """The database cannot be reached or opened."""


class Database:
    """Async context manager owning the engine for ``url``."""

    def __init__(
        self, url: str, *, pool_size: int = 10, instance_id: str | None = None, dead_peer_after_s: float | None = None
    ) -> None:
        self.url = url
        #: PostgreSQL finds out within about this long that this process's host is gone (TCP
        #: keepalives) and ends its sessions: a host that died mid-transaction closed no socket,
        #: and would otherwise hold its row locks against the other monitors for hours
        self.dead_peer_after_s = dead_peer_after_s
        #: the monitor writing through these sessions (``claimed_by`` of the notifications it is born holding)
        self.instance_id = instance_id
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        self._pool_size = pool_size
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self._read_sessions: async_sessionmaker[AsyncSession] | None = None
        self._writers = WriterQueue()
        #: urgent bursts under way (``urgent_burst``)
        self._bursts = PendingCount()
        self._sqlite_waits: ThreadPoolExecutor | None = None

    async def __aenter__(self) -> Database:
        if self.is_sqlite:
            # Where SQLite statements that may wait run (monitor.store.sqlite_inline).
            self._sqlite_waits = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sqlite-wait")
        self._engine = create_engine(
            self.url,
            pool_size=self._pool_size,
            sqlite_waits=self._sqlite_waits,
            dead_peer_after_s=self.dead_peer_after_s,
        )
        info = {WRITING_INSTANCE: self.instance_id}
        self._sessions = async_sessionmaker(self._engine, expire_on_commit=False, info=info)
        self._read_sessions = async_sessionmaker(
            self._engine.execution_options(callwatch_readonly=True), expire_on_commit=False, info=info
        )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._engine is not None:
            await self._engine.dispose()
        if self._sqlite_waits is not None:
            self._sqlite_waits.shutdown(wait=False)
        self._engine = None
        self._sqlite_waits = None
        self._sessions = None
        self._read_sessions = None

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("Database used outside its 'async with' block")
        return self._engine

    @asynccontextmanager
    async def urgent_burst(self) -> AsyncIterator[None]:
        """While inside, bookkeeping writers wait (see the module's docstring)."""
        self._bursts.add()
        try:
            yield
        finally:
            self._bursts.done()

    @asynccontextmanager
    async def write(
        self, *, urgent: bool = False, bookkeeping: bool = False, bulk: bool = False
    ) -> AsyncIterator[AsyncSession]:
        """A read-write transaction, committed on success and rolled back on error.

        ``urgent``: someone may be waiting on this (a press, an escalation, a reply).
        ``bookkeeping``: nobody waits on it; it waits for an urgent burst to end.
        ``bulk``: it works through many rows; on SQLite its statements run on a thread.
        """
        if self._sessions is None:
            raise RuntimeError("Database used outside its 'async with' block")
        if bookkeeping:
            await self._bursts.wait_none(BOOKKEEPING_WAITS_AT_MOST_S)
        if not self.is_sqlite:
            async with self._sessions() as session, session.begin():
                yield session
            return
        await self._writers.acquire(urgent)
        try:
            async with self._sessions() as session, session.begin():
                if bulk:
                    raw = await (await session.connection()).get_raw_connection()
                    mark_bulk(raw.driver_connection)
                yield session
        finally:
            self._writers.release()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only transaction (rolled back at the end)."""
        if self._read_sessions is None:
            raise RuntimeError("Database used outside its 'async with' block")
        async with self._read_sessions() as session:
            yield session

    async def transact(
        self,
        work: Callable[[AsyncSession], Awaitable[T]],
        *,
        urgent: bool = False,
        bookkeeping: bool = False,
        bulk: bool = False,
        attempts: int = 5,
    ) -> T:
        """Run ``work`` in a write transaction, again from the start if PostgreSQL aborts it
        to break a deadlock. ``work`` must do everything inside the transaction."""
        attempt = 0
        while True:
            try:
                async with self.write(urgent=urgent, bookkeeping=bookkeeping, bulk=bulk) as session:
                    return await work(session)
            except DBAPIError as exc:
                attempt += 1
                if not is_conflict(exc) or attempt >= attempts:
                    raise
            await asyncio.sleep(0.005 * 2**attempt)

    async def ping(self) -> None:
        """Raise if the database does not answer (a reader: it never waits for SQLite's write lock)."""
        async with self.engine.execution_options(callwatch_readonly=True).connect() as connection:
            await connection.execute(text("SELECT 1"))


def create_engine(
    url: str, *, pool_size: int = 10, sqlite_waits: Executor | None = None, dead_peer_after_s: float | None = None
) -> AsyncEngine:
    """An engine with the SQLite settings callwatch needs (WAL, busy timeout, foreign keys).

    ``sqlite_waits``: the threads for SQLite statements that may wait; with it, the others
    run on the event loop's thread (``monitor.store.sqlite_inline``). ``dead_peer_after_s``:
    PostgreSQL's TCP keepalives, so that it ends the sessions of a host gone about this long (a
    host that merely computes still answers keepalives: its transactions are left alone)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        settings = {}
        if dead_peer_after_s is not None:
            half = max(1, math.ceil(dead_peer_after_s / 2))
            settings = {
                "tcp_keepalives_idle": str(half),
                "tcp_keepalives_interval": "1",
                "tcp_keepalives_count": str(half),
            }
        return create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            connect_args={"server_settings": settings},
        )
    database = parsed.database
    if database and database != ":memory:":
        folder = Path(database).expanduser().resolve().parent
        if not folder.is_dir():
            raise DatabaseUnavailable(
                f"[database] url: the folder {folder} does not exist; create it or point url elsewhere."
            )
    options: dict[str, Any] = {}
    if sqlite_waits is not None and database and database != ":memory:" and not parsed.query:
        options["async_creator"] = inline_connector(database, sqlite_waits, SQLITE_BUSY_TIMEOUT_MS)
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=0, **options)
    event.listen(engine.sync_engine, "connect", _configure_sqlite_connection)
    event.listen(engine.sync_engine, "begin", _begin_sqlite_transaction)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: object) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred and late).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # First, so that the pragmas below wait for a writer in another process instead of failing.
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit survives a power cut too, because the broker forgets a message once
    # we acknowledge it after the commit.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin_sqlite_transaction(connection: Any) -> None:
    # Writers take the write lock up front so two writers never deadlock on an upgrade.
    readonly = bool(connection.get_execution_options().get("callwatch_readonly"))
    connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database is away or busy (retry later), not a bug."""
    if isinstance(error, OperationalError | InterfaceError | ConnectionError | TimeoutError | OSError):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return type(error).__module__.startswith("asyncpg") and "Connection" in type(error).__name__


#: PostgreSQL's "try again" errors: deadlock detected, serialization failure.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def is_conflict(error: BaseException) -> bool:
    """Whether ``error`` is a lock conflict the database resolved by aborting us: run it again."""
    if not isinstance(error, DBAPIError):
        return False
    original = error.orig
    code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if code is None and original is not None:
        code = getattr(getattr(original, "__cause__", None), "sqlstate", None)
    return code in RETRYABLE_SQLSTATES


def is_transient(error: BaseException) -> bool:
    """Retry later: the database is away, busy, or aborted us to break a lock cycle."""
    return is_unavailable(error) or is_conflict(error)


def writing_instance(session: AsyncSession) -> str | None:
    """The monitor writing through ``session`` (None outside a monitor: the CLI, tests)."""
    instance_id = session.info.get(WRITING_INSTANCE)
    return instance_id if isinstance(instance_id, str) else None

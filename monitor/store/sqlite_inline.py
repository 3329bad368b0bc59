"""Tuning: SQLite for the async engine without a thread hop per statement.

What it buys: aiosqlite runs every call (cursor, execute, fetch, close) on its own thread and
hands the result back through the event loop, about four hops per statement. Run on the event
loop's thread instead, an ORM select costs 216 µs against 862 µs with plain aiosqlite, a
single-row INSERT 207 µs against 721 µs (wall clock, medians; `python -m bench.tuning sqlite`,
bench/results/2026-12-07-tuning.md); a press runs about 15 statements in one write transaction.
Press → SMS on SQLite (`python -m bench.latency --presses 100`, six runs each way, in turns):
p50 11.6 against 14.8 ms, p99 22.9 against 34.0 ms (same file).

What runs where: this connection offers the same asyncio interface to SQLAlchemy's aiosqlite
dialect, but runs the statements of write transactions on the event loop's thread: they cannot
wait there, because every writer holds SQLite's write lock from ``BEGIN IMMEDIATE`` on
(``monitor.store.database``), and they are the short, urgent ones (a press, an escalation step,
an SMS claim). The write lock itself is taken inline when it is free (the usual case, as this
process has one writer at a time); when another process holds it, the wait happens on a thread.
What else can wait or take long goes to a thread too: ``COMMIT`` (fsync), pragmas, ``DELETE``
(purges of old rows), large batches of rows, every statement of a read-only transaction (console
pages, supervision's scans), so a long read never holds up the loop, and every statement of a
write transaction marked as bulk work (``mark_bulk``: retention's passes over thousands of old
rows). Which of these a statement is, is read from its first words (``may_wait``,
``takes_write_lock``).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any, TypeVar

T = TypeVar("T")

#: statements that may wait for a lock or the disk, or (DELETE: purges, clean-ups of old rows)
#: touch thousands of rows: run on a thread
WAITING_PREFIXES = ("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE", "COMMIT", "END", "PRAGMA", "VACUUM", "DELETE")
#: an executemany with more rows than this runs on a thread (an import, not a press)
INLINE_MAX_ROWS = 200


def may_wait(sql: str) -> bool:
    return sql.lstrip()[:16].upper().startswith(WAITING_PREFIXES)


def takes_write_lock(sql: str) -> bool:
    return sql.lstrip()[:16].upper().startswith(("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"))


def _writing_after(sql: str, writing: bool) -> bool:
    """Whether the connection holds the write lock after ``sql`` (it did before if ``writing``)."""
    if takes_write_lock(sql):
        return True
    head = sql.lstrip()[:16].upper()
    if head.startswith(("COMMIT", "END", "ROLLBACK")) and not head.startswith("ROLLBACK TO"):
        return False
    return writing


class InlineSqliteCursor:
    """The part of aiosqlite's cursor that SQLAlchemy uses."""

    def __init__(self, connection: InlineSqliteConnection) -> None:
        self._connection = connection
        self._cursor = connection.sqlite.cursor()

    async def __aenter__(self) -> InlineSqliteCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> InlineSqliteCursor:
        if self._connection.inline and not may_wait(sql):
            self._cursor.execute(sql, parameters)
        elif not (takes_write_lock(sql) and self._connection.lock_at_once(self._cursor, sql)):
            await self._connection.on_thread(self._cursor.execute, sql, parameters)
        self._connection.writing = _writing_after(sql, self._connection.writing)
        return self

    async def executemany(self, sql: str, rows: Sequence[Any]) -> InlineSqliteCursor:
        if self._connection.inline and len(rows) <= INLINE_MAX_ROWS:
            self._cursor.executemany(sql, rows)
        else:
            await self._connection.on_thread(self._cursor.executemany, sql, rows)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        # A read-only transaction's rows may be many (a console page): fetched on the thread too.
        if self._connection.inline:
            return self._cursor.fetchall()
        return await self._connection.on_thread(self._cursor.fetchall)

    async def close(self) -> None:
        self._cursor.close()


class _RunNow:
    """Stands in for aiosqlite's request queue, which SQLAlchemy uses to set the isolation level."""

    def put_nowait(self, request: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = request
        try:
            future.set_result(function())
        except Exception as exc:
            future.set_exception(exc)


class InlineSqliteConnection:
    """The part of aiosqlite's connection that SQLAlchemy's aiosqlite dialect uses."""

    def __init__(self, sqlite: sqlite3.Connection, executor: Executor, busy_timeout_ms: int) -> None:
        self.sqlite = sqlite
        self._executor = executor
        #: how long a statement waits for another process's lock (set at connect, see ``lock_at_once``)
        self.busy_timeout_ms = busy_timeout_ms
        # Names SQLAlchemy's dialect reads on an aiosqlite connection.
        self._conn: sqlite3.Connection | None = sqlite
        self._connection: sqlite3.Connection | None = sqlite
        self._tx = _RunNow()
        #: inside a transaction that holds the write lock
        self._writing = False
        #: the write transaction under way works through many rows (``mark_bulk``)
        self.bulk = False

    @property
    def writing(self) -> bool:
        return self._writing

    @writing.setter
    def writing(self, writing: bool) -> None:
        self._writing = writing
        if not writing:
            self.bulk = False  # bulk work is marked for one transaction

    @property
    def inline(self) -> bool:
        """Whether the statements now run on the event loop's thread."""
        return self._writing and not self.bulk

    def lock_at_once(self, cursor: sqlite3.Cursor, sql: str) -> bool:
        """Take the write lock here if nobody holds it (the usual case: this process has one
        writer at a time); False if another process does, to wait for it on a thread."""
        self.sqlite.execute("PRAGMA busy_timeout=0")
        try:
            cursor.execute(sql)
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode & 0xFF not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise
            return False
        finally:
            self.sqlite.execute(f"PRAGMA busy_timeout={self.busy_timeout_ms}")
        return True

    async def on_thread(self, function: Callable[..., T], *arguments: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *arguments)

    @property
    def isolation_level(self) -> str | None:
        return self.sqlite.isolation_level

    def cursor(self) -> InlineSqliteCursor:
        return InlineSqliteCursor(self)

    async def commit(self) -> None:
        self.writing = False
        await self.on_thread(self.sqlite.commit)

    async def rollback(self) -> None:
        self.writing = False
        self.sqlite.rollback()

    async def create_function(self, *arguments: Any, **options: Any) -> None:
        self.sqlite.create_function(*arguments, **options)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = self._conn = None
            self.sqlite.close()


def mark_bulk(driver_connection: object) -> None:
    """Run the rest of this write transaction's statements on the thread: it works through
    thousands of rows, and the event loop has presses to handle meanwhile."""
    if isinstance(driver_connection, InlineSqliteConnection):
        driver_connection.bulk = True


def inline_connector(path: str, executor: Executor, busy_timeout_ms: int) -> Callable[[], Any]:
    """An ``async_creator`` for ``create_async_engine`` opening ``path`` as an inline connection."""

    async def connect() -> InlineSqliteConnection:
        loop = asyncio.get_running_loop()
        # Opening may wait for a lock (WAL recovery): on the thread.
        sqlite = await loop.run_in_executor(executor, lambda: sqlite3.connect(path, check_same_thread=False))
        return InlineSqliteConnection(sqlite, executor, busy_timeout_ms)

    return connect

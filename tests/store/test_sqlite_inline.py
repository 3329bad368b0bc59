"""SQLite statements run on the event loop's thread, but waiting for another writer, or a
purge of many rows, must not stop the loop: the monitor would stop reading MQTT and
answering its web console meanwhile."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from sqlalchemy import text

from monitor.store.database import Database
from tests.support.waiting import until


class LoopTurns:
    """Other work on the event loop: counts its turns until stopped."""

    def __init__(self) -> None:
        self.turns = 0
        self._task = asyncio.create_task(self._turn())

    async def _turn(self) -> None:
        while True:
            self.turns += 1
            await asyncio.sleep(0)

    def stop(self) -> None:
        self._task.cancel()


async def two_hundred_thousand_messages(database: Database) -> None:
    """A table of old messages, big enough that working through it takes a while."""
    async with database.write() as session:
        await session.execute(text("CREATE TABLE messages (id INTEGER PRIMARY KEY, payload TEXT)"))
        await session.execute(
            text(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) "
                "INSERT INTO messages (payload) SELECT 'heartbeat ' || i FROM n"
            )
        )


async def test_a_writer_waiting_for_another_process_leaves_the_event_loop_running(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    async with Database(f"sqlite+aiosqlite:///{path}") as database:
        async with database.write() as session:
            await session.execute(text("CREATE TABLE presses (id INTEGER PRIMARY KEY, device TEXT)"))
        other_process = sqlite3.connect(path, isolation_level=None)
        other_process.execute("BEGIN IMMEDIATE")  # e.g. `callwatch import` holding the write lock

        async def press() -> None:
            async with database.write() as session:
                await session.execute(text("INSERT INTO presses (device) VALUES ('btn-1')"))

        writer = asyncio.create_task(press())
        loop = LoopTurns()
        try:
            await until(lambda: loop.turns >= 20, within_s=5, what="the event loop turning while the writer waits")
            assert not writer.done()  # still waiting for the lock, not failed
            other_process.execute("COMMIT")
            await asyncio.wait_for(writer, timeout=5)
        finally:
            loop.stop()
            other_process.close()
        async with database.read() as session:
            assert (await session.execute(text("SELECT device FROM presses"))).scalars().all() == ["btn-1"]


async def test_a_purge_leaves_the_event_loop_running(tmp_path: Path) -> None:
    async with Database(f"sqlite+aiosqlite:///{tmp_path / 'purge.db'}") as database:
        await two_hundred_thousand_messages(database)
        loop = LoopTurns()
        try:
            async with database.write() as session:
                before = loop.turns
                deleted = await session.execute(text("DELETE FROM messages WHERE id % 2 = 0"))
                turns_during_purge = loop.turns - before
        finally:
            loop.stop()
    assert deleted.rowcount == 100_000
    assert turns_during_purge > 0, "the loop turned while the DELETE ran"


async def test_retention_work_marked_bulk_leaves_the_event_loop_running(tmp_path: Path) -> None:
    """A retention pass clears thousands of old payloads (an UPDATE): a press must not wait for it."""
    async with Database(f"sqlite+aiosqlite:///{tmp_path / 'retention.db'}") as database:
        await two_hundred_thousand_messages(database)
        loop = LoopTurns()
        try:
            async with database.write(bulk=True) as session:
                before = loop.turns
                old = (await session.execute(text("SELECT id FROM messages WHERE id % 2 = 0"))).scalars().all()
                cleared = await session.execute(text("UPDATE messages SET payload = '' WHERE id % 2 = 0"))
                turns_during_pass = loop.turns - before
            async with database.write() as session:  # the next transaction is a press's: inline again
                before = loop.turns
                await session.execute(text("UPDATE messages SET payload = 'sos' WHERE id = 1"))
                turns_during_press = loop.turns - before
        finally:
            loop.stop()
    assert (len(old), cleared.rowcount) == (100_000, 100_000)
    assert turns_during_pass > 0, "the loop turned while the retention pass ran"
    assert turns_during_press == 0, "a press's statement ran at once, on the loop"

"""The databases the integration suites run on: SQLite always, PostgreSQL when configured.

CI sets CALLWATCH_TEST_POSTGRES_URL (for example
postgresql+asyncpg://postgres@127.0.0.1:5432/test) and sets CALLWATCH_REQUIRE_POSTGRES=1,
so a missing server fails the run instead of quietly testing SQLite only. The databases
themselves come from the harness (``simulator.harness.postgres``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from monitor.store.database import Database
from monitor.store.migrate import upgrade
from simulator.harness.postgres import POSTGRES_ENV, fresh_database, postgres_url

__all__ = [
    "POSTGRES_ENV",
    "REQUIRE_POSTGRES_ENV",
    "backends",
    "fresh_database",
    "migrated_template",
    "postgres_url",
]

REQUIRE_POSTGRES_ENV = "CALLWATCH_REQUIRE_POSTGRES"


def backends() -> list[str]:
    return ["sqlite", "postgresql"] if postgres_url() else ["sqlite"]


@contextmanager
def migrated_template(backend: str, folder: Path) -> Iterator[str]:
    """A database of ``backend`` migrated to the newest schema, for tests to copy; its URL."""
    folder.mkdir(parents=True, exist_ok=True)
    entered = fresh_database(backend, folder, prefix="cw_template")
    loop = asyncio.new_event_loop()
    try:
        url = loop.run_until_complete(entered.__aenter__())
        loop.run_until_complete(_migrate(url))
        yield url
        loop.run_until_complete(entered.__aexit__(None, None, None))
    finally:
        loop.close()


async def _migrate(url: str) -> None:
    async with Database(url, pool_size=1) as database:
        await upgrade(database)

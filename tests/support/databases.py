"""The databases the integration suites run on: SQLite always, PostgreSQL when configured.

CI sets CALLWATCH_TEST_POSTGRES_URL (for example
postgresql+asyncpg://postgres@127.0.0.1:5432/test) and sets CALLWATCH_REQUIRE_POSTGRES=1,
so a missing server fails the run instead of quietly testing SQLite only.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

POSTGRES_ENV = "CALLWATCH_TEST_POSTGRES_URL"
REQUIRE_POSTGRES_ENV = "CALLWATCH_REQUIRE_POSTGRES"


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def backends() -> list[str]:
    return ["sqlite", "postgresql"] if postgres_url() else ["sqlite"]


def _admin_dsn(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


@asynccontextmanager
async def fresh_database(backend: str, folder: Path) -> AsyncIterator[str]:
    """A new, empty database for one test; its SQLAlchemy URL."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / 'callwatch.db'}"
        return
    base = postgres_url()
    assert base is not None
    name = f"cw_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_admin_dsn(base))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(_admin_dsn(base))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

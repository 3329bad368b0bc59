"""Several monitors need PostgreSQL (SQLite has one writer process): every test here runs on it.

Without CALLWATCH_TEST_POSTGRES_URL they are skipped, saying why; CI sets it together with
CALLWATCH_REQUIRE_POSTGRES, which makes a missing URL an error (tests/conftest.py), so there
they can never be skipped quietly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.databases import POSTGRES_ENV, fresh_database, postgres_url


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    if not postgres_url():
        pytest.skip(f"several monitors need PostgreSQL: set {POSTGRES_ENV}")
    async with fresh_database("postgresql", tmp_path) as url:
        yield url

"""The databases the integration suites run on: SQLite always, PostgreSQL when configured.

CI sets CALLWATCH_TEST_POSTGRES_URL (for example
postgresql+asyncpg://postgres@127.0.0.1:5432/test) and sets CALLWATCH_REQUIRE_POSTGRES=1,
so a missing server fails the run instead of quietly testing SQLite only. The databases
themselves come from the harness (``simulator.harness.postgres``).
"""

from __future__ import annotations

from simulator.harness.postgres import POSTGRES_ENV, fresh_database, postgres_url

__all__ = ["POSTGRES_ENV", "REQUIRE_POSTGRES_ENV", "backends", "fresh_database", "postgres_url"]

REQUIRE_POSTGRES_ENV = "CALLWATCH_REQUIRE_POSTGRES"


def backends() -> list[str]:
    return ["sqlite", "postgresql"] if postgres_url() else ["sqlite"]

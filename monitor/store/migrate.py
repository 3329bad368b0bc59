"""Schema migrations (Alembic), applied by `callwatch db upgrade` and at `callwatch run` start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from monitor.store.database import Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def upgrade(database: Database) -> None:
    """Bring the schema to the newest revision (safe to run from several monitors at once)."""
    config = alembic_config()

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")

    async with database.engine.begin() as connection:
        await connection.run_sync(run)


async def schema_is_current(database: Database) -> bool:
    """Whether every migration has been applied (without changing anything)."""
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())

    def applied(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    # A reader: on SQLite it must not queue for the write lock a running monitor holds.
    async with database.engine.execution_options(callwatch_readonly=True).connect() as connection:
        return await connection.run_sync(applied) == heads

"""Schema migrations (Alembic), applied by `callwatch db upgrade` and at `callwatch run` start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from monitor.store.database import Database

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def upgrade(database: Database) -> None:
    """Bring the schema to the newest revision (safe to run from several monitors at once)."""
    config = alembic_config()

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with database.engine.begin() as connection:
        await connection.run_sync(run)


async def pending_revisions(database: Database) -> list[str]:
    """Revisions not yet applied; empty when the schema is current."""
    script = ScriptDirectory.from_config(alembic_config())

    def current(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    async with database.engine.connect() as connection:
        applied = await connection.run_sync(current)
    return [
        revision.revision
        for revision in script.walk_revisions()
        if revision.revision not in applied and not (applied and _is_ancestor(script, revision.revision, applied))
    ]


def _is_ancestor(script: ScriptDirectory, revision: str, heads: set[str]) -> bool:
    return any(revision in {r.revision for r in script.iterate_revisions(head, "base")} for head in heads)

"""Migration 0004_oncall: creates what the models describe, and moves residents' emergency
contacts from the care card's JSON to family contact rows (and back on downgrade)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

import monitor.store.models  # noqa: F401 - the console's tables are part of the schema compared
from monitor.store.database import Database
from monitor.store.migrate import alembic_config, upgrade
from monitor.store.models import Base
from tests.support.databases import backends, fresh_database

ONCALL_NAMES = {
    "family_contacts",
    "volunteer_phones",
    "volunteer_availability",
    "sms_opt_outs",
    "schedule",
    "share_location",
    "home_lat",
    "home_lon",
    "inform",
    "emergency_contacts",
    "ix_notifications_volunteer_created",
    "ix_alerts_acknowledged_by",
}


@pytest.fixture(params=backends())
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: this module migrates it itself, step by step."""
    async with fresh_database(request.param, tmp_path) as url:
        yield url


async def migrate(database: Database, target: str, *, down: bool = False) -> None:
    config = alembic_config()

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, target)

    async with database.engine.begin() as connection:
        await connection.run_sync(run)


def differences(connection: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


async def test_schema_after_upgrade_matches_the_models(database_url: str) -> None:
    async with Database(database_url) as database:
        await upgrade(database)
        async with database.engine.connect() as connection:
            found = await connection.run_sync(differences)
    assert [diff for diff in found if any(name in repr(diff) for name in ONCALL_NAMES)] == []


async def test_care_card_contacts_become_family_rows_and_come_back_on_downgrade(database_url: str) -> None:
    contacts = [
        {"name": "Liu Qiang", "relation": "son", "phone": "+8613700000009"},
        {"name": "Liu Mei", "relation": "daughter", "phone": "+8613700000010"},
    ]
    async with Database(database_url) as database:
        await migrate(database, "0003")
        async with database.engine.begin() as connection:
            await connection.execute(text("INSERT INTO areas (id, name) VALUES ('a-1', 'Tianxian 3')"))
            await connection.execute(
                text(
                    "INSERT INTO residents (id, name, address, area_id, language, notes)"
                    " VALUES ('r-9', 'Liu Fang', '', 'a-1', 'en', '')"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO resident_cards"
                    " (resident_id, emergency_contacts, camera_consent, updated_at, updated_by)"
                    " VALUES ('r-9', :contacts, false, CURRENT_TIMESTAMP, 'user:admin')"
                ),
                {"contacts": json.dumps(contacts)},
            )
        await migrate(database, "0004_oncall")
        async with database.engine.connect() as connection:
            rows = (
                await connection.execute(
                    text("SELECT position, name, relationship, phone, language FROM family_contacts ORDER BY position")
                )
            ).all()
        await migrate(database, "0003", down=True)
        async with database.engine.connect() as connection:
            restored = (await connection.execute(text("SELECT emergency_contacts FROM resident_cards"))).scalar_one()

    assert [tuple(row) for row in rows] == [
        (0, "Liu Qiang", "son", "+8613700000009", "en"),
        (1, "Liu Mei", "daughter", "+8613700000010", "en"),
    ]
    assert (json.loads(restored) if isinstance(restored, str) else restored) == contacts

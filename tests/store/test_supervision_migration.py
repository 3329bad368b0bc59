"""Migration 0002_supervision creates exactly what the models describe for supervision."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from monitor.store.database import Database
from monitor.store.migrate import upgrade
from monitor.store.models import Base

SUPERVISION_NAMES = {
    "alert_devices",
    "kinds",
    "timezone",
    "checkin_by",
    "last_checkin_at",
    "checkin_due_at",
    "safe_lat",
    "safe_lon",
    "safe_radius_m",
    "safe_region",
    "offline_at",
    "offline_noticed",
    "battery_low",
    "battery_noticed",
    "outside_zone",
    "review_at",
    "staff_told_at",
    "digest_told_at",
}


def differences(connection: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


async def test_schema_after_upgrade_matches_the_models(tmp_path: Path) -> None:
    async with Database(f"sqlite+aiosqlite:///{tmp_path / 'schema.db'}") as database:
        await upgrade(database)
        async with database.engine.connect() as connection:
            found = await connection.run_sync(differences)
    ours = [diff for diff in found if any(name in repr(diff) for name in SUPERVISION_NAMES)]
    assert ours == []

"""monitor sessions: each monitor's MQTT client id, and who drains it after the monitor died

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("monitor_instances") as table:
        table.add_column(sa.Column("mqtt_client_id", sa.String(length=128), nullable=True))
        table.add_column(sa.Column("adopted_by", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("monitor_instances") as table:
        table.drop_column("adopted_by")
        table.drop_column("mqtt_client_id")

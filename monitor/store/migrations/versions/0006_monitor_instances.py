"""monitor instances: the monitors sharing one database, so they share the sender's rate

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitor.store.models

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monitor_instances",
        sa.Column("instance_id", sa.String(length=128), nullable=False),
        sa.Column("seen_at", monitor.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("instance_id", name=op.f("pk_monitor_instances")),
    )


def downgrade() -> None:
    op.drop_table("monitor_instances")

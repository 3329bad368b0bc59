"""monitors seen by operators: a monitor that stopped cleanly, a dead one's session drained (and
by whom), and the duty staff told that it is gone (once, and by which survivor)

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitor.store.models

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENTS = ("stopped_at", "drained_at", "alarmed_at")


def upgrade() -> None:
    with op.batch_alter_table("monitor_instances") as table:
        for name in MOMENTS:
            table.add_column(sa.Column(name, monitor.store.models.UTCDateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("alarmed_by", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("monitor_instances") as table:
        table.drop_column("alarmed_by")
        for name in reversed(MOMENTS):
            table.drop_column(name)

"""retire, don't break: residents and devices can be retired (kept for the record, never supervised)

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RETIRABLE = ("residents", "devices")


def upgrade() -> None:
    for name in RETIRABLE:
        with op.batch_alter_table(name) as table:
            table.add_column(sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    for name in RETIRABLE:
        with op.batch_alter_table(name) as table:
            table.drop_column("active")

"""retire, don't break: areas and escalation policies can be retired too (kept for the record)

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RETIRABLE = ("areas", "escalation_policies")


def upgrade() -> None:
    for name in RETIRABLE:
        with op.batch_alter_table(name) as table:
            table.add_column(sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    for name in RETIRABLE:
        with op.batch_alter_table(name) as table:
            table.drop_column("active")

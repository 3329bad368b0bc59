"""voice calls: whether and when each volunteer may be called

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("volunteers") as table:
        # everyone so far may be called whenever a tier calls
        table.add_column(sa.Column("voice", sa.Boolean(), server_default=sa.true(), nullable=False))
        table.add_column(sa.Column("voice_hours", sa.String(length=11), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("volunteers") as table:
        table.drop_column("voice_hours")
        table.drop_column("voice")

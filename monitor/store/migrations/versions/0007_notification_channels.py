"""notification channels: which channel carries each notification, and its message as a template

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as table:
        # every row so far was an SMS
        table.add_column(sa.Column("channel", sa.String(length=16), server_default="sms", nullable=False))
        table.add_column(sa.Column("template", sa.String(length=64), nullable=True))
        table.add_column(sa.Column("params", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications") as table:
        table.drop_column("params")
        table.drop_column("template")
        table.drop_column("channel")

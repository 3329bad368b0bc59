"""several SMS providers: which one carried each notification, each message without its responder
link for a provider that carries none, and each provider's state shared by all monitors

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitor.store.models

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as table:
        table.add_column(sa.Column("body_without_link", sa.Text(), nullable=True))
        table.add_column(sa.Column("provider", sa.String(length=16), nullable=True))
    op.create_table(
        "provider_states",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("up", sa.Boolean(), nullable=False),
        sa.Column("since", monitor.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", monitor.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("channel", "provider", name=op.f("pk_provider_states")),
    )


def downgrade() -> None:
    op.drop_table("provider_states")
    with op.batch_alter_table("notifications") as table:
        table.drop_column("provider")
        table.drop_column("body_without_link")

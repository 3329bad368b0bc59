"""reliability: per-phone SMS limits with digests, and the retention job's lookups

Revision ID: 0004_reliability
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_reliability"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_notifications_digest_id_notifications"), "notifications", ["digest_id"], ["id"]
        )
        batch_op.create_index("ix_notifications_phone_claimed", ["phone", "claimed_at"], unique=False)

    with op.batch_alter_table("alert_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_events_device_message_id"), ["device_message_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alert_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_events_device_message_id"))

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_phone_claimed")
        batch_op.drop_constraint(batch_op.f("fk_notifications_digest_id_notifications"), type_="foreignkey")
        batch_op.drop_column("digest_id")

"""console security: known browsers, sign-in tries by browser, one-use camera links

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitor.store.models

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, monitor.store.models.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("sign_in_attempts") as table:
        table.add_column(sa.Column("browser", sa.String(length=64), nullable=True))
    op.create_table(
        "known_browsers",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _when("first_signed_in_at"),
        _when("last_signed_in_at"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["console_users.id"], name=op.f("fk_known_browsers_user_id_console_users")
        ),
        sa.PrimaryKeyConstraint("digest", "user_id", name=op.f("pk_known_browsers")),
    )
    op.create_index(op.f("ix_known_browsers_user_id"), "known_browsers", ["user_id"], unique=False)
    op.create_table(
        "camera_links",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        _when("created_at"),
        _when("expires_at"),
        _when("used_at", nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name=op.f("fk_camera_links_alert_id_alerts")),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_camera_links")),
    )
    op.create_index(op.f("ix_camera_links_alert_id"), "camera_links", ["alert_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_camera_links_alert_id"), table_name="camera_links")
    op.drop_table("camera_links")
    op.drop_index(op.f("ix_known_browsers_user_id"), table_name="known_browsers")
    op.drop_table("known_browsers")
    with op.batch_alter_table("sign_in_attempts") as table:
        table.drop_column("browser")

"""device supervision, daily check-ins, safe zones, per-kind policies

Revision ID: 0002_supervision
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitor.store.models

revision: str = "0002_supervision"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str) -> sa.Column[object]:
    return sa.Column(name, monitor.store.models.UTCDateTime(timezone=True), nullable=True)


def _flag(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false())


def upgrade() -> None:
    with op.batch_alter_table("escalation_policies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kinds", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))

    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("checkin_by", sa.String(length=5), nullable=True))
        batch_op.add_column(_when("last_checkin_at"))
        batch_op.add_column(_when("checkin_due_at"))
        batch_op.add_column(sa.Column("safe_lat", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("safe_lon", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("safe_radius_m", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("safe_region", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_residents_checkin_due_at"), ["checkin_due_at"], unique=False)

    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(_when("offline_at"))
        batch_op.add_column(_flag("offline_noticed"))
        batch_op.add_column(_flag("battery_low"))
        batch_op.add_column(_flag("battery_noticed"))
        batch_op.add_column(sa.Column("outside_zone", sa.Boolean(), nullable=True))
        batch_op.add_column(_when("review_at"))
        batch_op.create_index(batch_op.f("ix_devices_review_at"), ["review_at"], unique=False)

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(_when("staff_told_at"))
        batch_op.add_column(_when("digest_told_at"))

    op.create_table(
        "alert_devices",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name=op.f("fk_alert_devices_alert_id_alerts")),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name=op.f("fk_alert_devices_device_id_devices")),
        sa.PrimaryKeyConstraint("alert_id", "device_id", name=op.f("pk_alert_devices")),
    )
    with op.batch_alter_table("alert_devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_devices_device_id"), ["device_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alert_devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_devices_device_id"))
    op.drop_table("alert_devices")

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("digest_told_at")
        batch_op.drop_column("staff_told_at")

    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_devices_review_at"))
        for column in ("review_at", "outside_zone", "battery_noticed", "battery_low", "offline_noticed", "offline_at"):
            batch_op.drop_column(column)

    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_residents_checkin_due_at"))
        for column in (
            "safe_region",
            "safe_radius_m",
            "safe_lon",
            "safe_lat",
            "checkin_due_at",
            "last_checkin_at",
            "checkin_by",
            "timezone",
        ):
            batch_op.drop_column(column)

    with op.batch_alter_table("escalation_policies", schema=None) as batch_op:
        batch_op.drop_column("kinds")

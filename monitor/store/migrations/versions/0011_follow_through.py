"""follow-through: taken, on the way (with an ETA), on site and who, overdue, the follow-up timer;
each policy's arrival and resolution deadlines and how close a shared position counts as
arrived; residents who want SMS updates; links to the responder page; the key safe's code

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitor.store.models

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENTS = ("taken_at", "en_route_at", "eta", "on_site_at", "follow_up_at")


def upgrade() -> None:
    with op.batch_alter_table("alerts") as table:
        for name in MOMENTS:
            table.add_column(sa.Column(name, monitor.store.models.UTCDateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("on_site_by", sa.String(length=100), nullable=True))
        table.add_column(sa.Column("overdue", sa.Boolean(), server_default=sa.false(), nullable=False))
        table.add_column(sa.Column("follow_up", sa.String(length=32), nullable=True))
        table.create_index("ix_alerts_follow_up", ["state", "follow_up_at"])
    # alerts taken before: their holder's clock starts when they took it
    op.execute("UPDATE alerts SET taken_at = acknowledged_at WHERE state = 'acknowledged'")
    op.create_table(
        "responder_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("volunteer_id", sa.String(length=64), nullable=True),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", monitor.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name=op.f("fk_responder_links_alert_id_alerts")),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_responder_links_volunteer_id_volunteers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responder_links")),
        sa.UniqueConstraint("alert_id", "phone", name=op.f("uq_responder_links_alert_id_phone")),
        sa.UniqueConstraint("token", name=op.f("uq_responder_links_token")),
    )
    op.create_index(op.f("ix_responder_links_alert_id"), "responder_links", ["alert_id"])
    with op.batch_alter_table("resident_cards") as table:
        table.add_column(sa.Column("key_safe_code", sa.String(length=64), nullable=True))
    with op.batch_alter_table("residents") as table:
        table.add_column(sa.Column("sms_updates", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("escalation_policies") as table:
        table.add_column(sa.Column("arrive_within_s", sa.Integer(), nullable=True))
        table.add_column(sa.Column("resolve_within_s", sa.Integer(), nullable=True))
        table.add_column(sa.Column("arrival_radius_m", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("escalation_policies") as table:
        table.drop_column("arrival_radius_m")
        table.drop_column("resolve_within_s")
        table.drop_column("arrive_within_s")
    with op.batch_alter_table("residents") as table:
        table.drop_column("sms_updates")
    with op.batch_alter_table("resident_cards") as table:
        table.drop_column("key_safe_code")
    op.drop_index(op.f("ix_responder_links_alert_id"), table_name="responder_links")
    op.drop_table("responder_links")
    with op.batch_alter_table("alerts") as table:
        table.drop_index("ix_alerts_follow_up")
        for name in ("follow_up", "overdue", "on_site_by", *MOMENTS):
            table.drop_column(name)

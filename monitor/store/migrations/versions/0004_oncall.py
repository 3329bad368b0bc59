"""who is on call: schedules, availability by SMS, opt-outs, family contacts, volunteers' phones,
and the indexes behind the escalation log's load figures

Residents' emergency contacts move from the care card's JSON list
(``resident_cards.emergency_contacts``) to rows of ``family_contacts``, which policies can
ask or inform and replies can be matched to by phone. Each contact keeps its name,
relation and phone, and gets the resident's language.

Revision ID: 0004_oncall
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import monitor.store.models

revision: str = "0004_oncall"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, *, nullable: bool = True) -> sa.Column[Any]:
    return sa.Column(name, monitor.store.models.UTCDateTime(timezone=True), nullable=nullable)


_cards = sa.table(
    "resident_cards",
    sa.column("resident_id", sa.String()),
    sa.column("emergency_contacts", sa.JSON()),
    sa.column("camera_consent", sa.Boolean()),
    sa.column("updated_at", monitor.store.models.UTCDateTime(timezone=True)),
    sa.column("updated_by", sa.String()),
)
_residents = sa.table("residents", sa.column("id", sa.String()), sa.column("language", sa.String()))
_contacts = sa.table(
    "family_contacts",
    sa.column("resident_id", sa.String()),
    sa.column("position", sa.Integer()),
    sa.column("name", sa.String()),
    sa.column("relationship", sa.String()),
    sa.column("phone", sa.String()),
    sa.column("language", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("volunteers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("schedule", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column("home_lat", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("home_lon", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("share_location", sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("home_lat", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("home_lon", sa.Float(), nullable=True))

    with op.batch_alter_table("escalation_policies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inform", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))

    op.create_table(
        "family_contacts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("resident_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("relationship", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_family_contacts_resident_id_residents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_contacts")),
    )
    with op.batch_alter_table("family_contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_family_contacts_resident_id"), ["resident_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_family_contacts_phone"), ["phone"], unique=False)

    op.create_table(
        "volunteer_phones",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("volunteer_id", sa.String(length=64), nullable=False),
        sa.Column("protocol", sa.String(length=32), nullable=False),
        sa.Column("topic", sa.String(length=256), nullable=False),
        sa.Column("serial", sa.String(length=128), nullable=True),
        sa.Column("ref", sa.String(length=256), nullable=False),
        sa.Column("adapter_state", sa.JSON(), nullable=False),
        sa.Column("last_lat", sa.Float(), nullable=True),
        sa.Column("last_lon", sa.Float(), nullable=True),
        sa.Column("last_accuracy_m", sa.Float(), nullable=True),
        _when("last_fix_at"),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_volunteer_phones_volunteer_id_volunteers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_phones")),
        sa.UniqueConstraint("protocol", "ref", name=op.f("uq_volunteer_phones_protocol_ref")),
    )
    with op.batch_alter_table("volunteer_phones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_volunteer_phones_volunteer_id"), ["volunteer_id"], unique=False)

    op.create_table(
        "volunteer_availability",
        sa.Column("volunteer_id", sa.String(length=64), nullable=False),
        _when("off_since"),
        _when("paused_until"),
        _when("changed_at", nullable=False),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_volunteer_availability_volunteer_id_volunteers")
        ),
        sa.PrimaryKeyConstraint("volunteer_id", name=op.f("pk_volunteer_availability")),
    )
    op.create_table(
        "sms_opt_outs",
        sa.Column("phone", sa.String(length=32), nullable=False),
        _when("opted_out_at", nullable=False),
        sa.Column("inbound_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["inbound_id"], ["inbound_sms.id"], name=op.f("fk_sms_opt_outs_inbound_id_inbound_sms")
        ),
        sa.PrimaryKeyConstraint("phone", name=op.f("pk_sms_opt_outs")),
    )

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_volunteer_created", ["volunteer_id", "created_at"], unique=False)
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index("ix_alerts_acknowledged_by", ["acknowledged_by", "acknowledged_at"], unique=False)

    _move_card_contacts_to_rows()
    _drop_columns("resident_cards", "emergency_contacts")


def _drop_columns(table: str, *columns: str) -> None:
    """Plain ALTER TABLE ... DROP COLUMN (SQLite has it since 3.35): a batch copy of a table
    other tables point to would trip SQLite's foreign key checks once rows refer to it."""
    for column in columns:
        op.drop_column(table, column)


def _move_card_contacts_to_rows() -> None:
    connection = op.get_bind()
    languages = dict(connection.execute(sa.select(_residents.c.id, _residents.c.language)).all())
    rows = []
    for resident_id, contacts in connection.execute(sa.select(_cards.c.resident_id, _cards.c.emergency_contacts)):
        for position, contact in enumerate(contacts or []):
            if not isinstance(contact, dict) or not contact.get("phone"):
                continue
            rows.append(
                {
                    "resident_id": resident_id,
                    "position": position,
                    "name": str(contact.get("name") or "")[:200],
                    "relationship": str(contact.get("relation") or "")[:64],
                    "phone": str(contact["phone"])[:32],
                    "language": languages.get(resident_id) or "zh",
                }
            )
    if rows:
        connection.execute(_contacts.insert(), rows)


def downgrade() -> None:
    with op.batch_alter_table("resident_cards", schema=None) as batch_op:
        batch_op.add_column(sa.Column("emergency_contacts", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    _move_contact_rows_to_cards()

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_acknowledged_by")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_volunteer_created")
    op.drop_table("sms_opt_outs")
    op.drop_table("volunteer_availability")
    with op.batch_alter_table("volunteer_phones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_volunteer_phones_volunteer_id"))
    op.drop_table("volunteer_phones")
    with op.batch_alter_table("family_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_family_contacts_phone"))
        batch_op.drop_index(batch_op.f("ix_family_contacts_resident_id"))
    op.drop_table("family_contacts")

    _drop_columns("escalation_policies", "inform")
    _drop_columns("residents", "home_lon", "home_lat")
    _drop_columns("volunteers", "share_location", "home_lon", "home_lat", "schedule", "timezone")


def _move_contact_rows_to_cards() -> None:
    connection = op.get_bind()
    by_resident: dict[str, list[dict[str, str]]] = {}
    ordered = sa.select(_contacts).order_by(_contacts.c.resident_id, _contacts.c.position)
    for contact in connection.execute(ordered).mappings():
        by_resident.setdefault(contact["resident_id"], []).append(
            {"name": contact["name"], "relation": contact["relationship"], "phone": contact["phone"]}
        )
    with_card = set(connection.execute(sa.select(_cards.c.resident_id)).scalars())
    for resident_id, contacts in by_resident.items():
        if resident_id in with_card:
            connection.execute(
                _cards.update().where(_cards.c.resident_id == resident_id).values(emergency_contacts=contacts)
            )
        else:
            connection.execute(
                _cards.insert().values(
                    resident_id=resident_id,
                    emergency_contacts=contacts,
                    camera_consent=False,
                    updated_at=datetime.now(UTC),
                    updated_by="migration 0004_oncall",
                )
            )

"""several communities in one service: organisations own areas, policies, volunteers and console
accounts; a console account's scope (an organisation, or a list of areas)

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWNED = ("areas", "escalation_policies", "volunteers", "console_users")


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
    )
    for name in OWNED:
        with op.batch_alter_table(name) as table:
            table.add_column(sa.Column("organisation_id", sa.String(length=64), nullable=True))
            table.create_foreign_key(
                op.f(f"fk_{name}_organisation_id_organisations"), "organisations", ["organisation_id"], ["id"]
            )
            table.create_index(op.f(f"ix_{name}_organisation_id"), ["organisation_id"])
    with op.batch_alter_table("console_users") as table:
        table.add_column(sa.Column("areas", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("console_users") as table:
        table.drop_column("areas")
    for name in reversed(OWNED):
        with op.batch_alter_table(name) as table:
            table.drop_index(op.f(f"ix_{name}_organisation_id"))
            table.drop_constraint(op.f(f"fk_{name}_organisation_id_organisations"), type_="foreignkey")
            table.drop_column("organisation_id")
    op.drop_table("organisations")

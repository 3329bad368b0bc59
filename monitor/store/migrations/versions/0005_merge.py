"""join the on-call and reliability branches

Revision ID: 0005
Revises: 0004_oncall, 0004_reliability
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0005"
down_revision: str | Sequence[str] | None = ("0004_oncall", "0004_reliability")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: this revision only makes the two branches one line again."""


def downgrade() -> None:
    """Nothing to undo."""

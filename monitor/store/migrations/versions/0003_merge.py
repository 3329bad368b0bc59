"""join the console and supervision branches

Revision ID: 0003
Revises: 0002_console, 0002_supervision
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0003"
down_revision: str | Sequence[str] | None = ("0002_console", "0002_supervision")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: this revision only makes the two branches one line again."""


def downgrade() -> None:
    """Nothing to undo."""

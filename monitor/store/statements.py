"""Statements that differ between SQLite and PostgreSQL, written once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase


async def insert_many_unless_exist(
    session: AsyncSession,
    model: type[DeclarativeBase],
    rows: Sequence[Mapping[str, Any]],
    unique_columns: Sequence[str],
    returning: Sequence[Any],
) -> Sequence[Any]:
    """Insert rows in one statement, skipping those whose unique columns exist; ``returning`` of the new ones."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(model)
        .values(list(rows))
        .on_conflict_do_nothing(index_elements=list(unique_columns))
        .returning(*returning)
    )
    return (await session.execute(statement)).all()


async def insert_unless_exists(
    session: AsyncSession,
    model: type[DeclarativeBase],
    values: Mapping[str, Any],
    unique_columns: Sequence[str],
) -> Any | None:
    """Insert one row unless one with the same unique columns exists; the new primary key or None.

    Safe against a concurrent insert by another monitor: the database decides, not a prior read.
    """
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    primary_key = model.__table__.primary_key.columns.values()[0]  # type: ignore[attr-defined]
    statement = (
        insert(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(unique_columns))
        .returning(primary_key)
    )
    result = await session.execute(statement)
    return result.scalar_one_or_none()

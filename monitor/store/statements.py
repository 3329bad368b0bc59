"""Statements that differ between SQLite and PostgreSQL, written once; each built once per shape.

Tuning: building a SQLAlchemy statement (the construct and its cache key) costs about as much as
running it on SQLite, and these run on the path of every press, so each is built once per shape
(``functools.cache``) and kept. A seen event's INSERT .. ON CONFLICT DO NOTHING RETURNING
through ``insert_many_unless_exist``: 158 µs of CPU against 213 µs built at each call. The same
holds for the statements other modules build once at import with ``bindparam``
(``monitor.ingest.device_events.ONGOING_URGENT``: 241 against 503 µs;
``monitor.actions.alert_actions.RESIDENT_AREA_POLICY``: 250 against 503 µs).
`python -m bench.tuning statements`, bench/results/2026-12-07-tuning.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Insert
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
    """Insert rows in one statement, skipping those whose unique columns exist; ``returning`` of the new ones.

    Executed with a list of rows, its compiled form is cached (a statement with the rows in
    its VALUES would be compiled afresh every time), and on the connection: the ORM's
    bulk-insert machinery costs more than the INSERT.
    """
    if not rows:
        return []
    statement = _insert_skipping_existing(_dialect(session), model, tuple(unique_columns), tuple(returning))
    connection = await session.connection()
    return (await connection.execute(statement, list(rows))).all()


async def insert_unless_exists(
    session: AsyncSession,
    model: type[DeclarativeBase],
    values: Mapping[str, Any],
    unique_columns: Sequence[str],
) -> Any | None:
    """Insert one row unless one with the same unique columns exists; the new primary key or None.

    Safe against a concurrent insert by another monitor: the database decides, not a prior read.
    """
    primary_key = model.__table__.primary_key.columns.values()[0]  # type: ignore[attr-defined]
    statement = _insert_skipping_existing(_dialect(session), model, tuple(unique_columns), (primary_key,))
    connection = await session.connection()
    return (await connection.execute(statement, dict(values))).scalar_one_or_none()


async def insert_or_update(
    session: AsyncSession, model: type[DeclarativeBase], values: Mapping[str, Any], unique_columns: Sequence[str]
) -> None:
    """Insert one row, or set the other columns of the row with the same unique columns to ``values``."""
    statement = _upsert(_dialect(session), model, tuple(unique_columns), tuple(sorted(values)))
    connection = await session.connection()
    await connection.execute(statement, dict(values))


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


@cache
def _insert_skipping_existing(
    dialect: str, model: type[DeclarativeBase], unique_columns: tuple[str, ...], returning: tuple[Any, ...]
) -> Insert:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(model).on_conflict_do_nothing(index_elements=list(unique_columns)).returning(*returning)


@cache
def _upsert(
    dialect: str, model: type[DeclarativeBase], unique_columns: tuple[str, ...], columns: tuple[str, ...]
) -> Insert:
    insert = postgresql.insert(model) if dialect == "postgresql" else sqlite.insert(model)
    updated = {column: insert.excluded[column] for column in columns if column not in unique_columns}
    return insert.on_conflict_do_update(index_elements=list(unique_columns), set_=updated)

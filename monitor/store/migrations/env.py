"""Alembic environment: runs on the connection ``monitor.store.migrate`` passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from monitor.store.models import Base


def run_on(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Several monitors may start at once: one migrates, the others wait here.
            connection.execute(text("SELECT pg_advisory_xact_lock(8127301)"))
        context.run_migrations()


def run_offline() -> None:
    context.configure(url=context.config.get_main_option("sqlalchemy.url"), target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    given = context.config.attributes.get("connection")
    if given is not None:
        run_on(given)
    else:
        # `alembic` used directly (e.g. to autogenerate a revision) with a sync URL.
        with create_engine(str(context.config.get_main_option("sqlalchemy.url"))).connect() as connection:
            run_on(connection)
            connection.commit()

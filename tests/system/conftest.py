"""Fixtures of the system suites: the broker exactly as shipped (config/mosquitto.conf), a SQLite-only
database, and a private PostgreSQL cluster a test may stop, freeze or kill (both from ``simulator.harness``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.harness.postgres import PrivatePostgres
from simulator.harness.shipped_broker import ShippedBroker


@pytest.fixture
def shipped(tmp_path: Path) -> Iterator[ShippedBroker]:
    """Not started: ``secure()`` writes its accounts first."""
    broker = ShippedBroker(tmp_path / "broker", plain=True)
    yield broker
    broker.stop()


@pytest.fixture
def sqlite_only(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'callwatch.db'}"


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A cluster of this test's own; a test uses it by overriding ``database_url`` with its url."""
    with PrivatePostgres() as cluster:
        yield cluster

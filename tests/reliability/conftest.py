"""Fixtures of the reliability suite: the broker exactly as shipped (config/mosquitto.conf)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.mosquitto import ShippedBroker


@pytest.fixture
def shipped(tmp_path: Path) -> Iterator[ShippedBroker]:
    """Not started: ``secure()`` writes its accounts first."""
    broker = ShippedBroker(tmp_path / "broker", plain=True)
    yield broker
    broker.stop()


@pytest.fixture
def sqlite_only(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'callwatch.db'}"

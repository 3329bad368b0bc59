"""Shared fixtures: a private Mosquitto, fresh databases (SQLite, and PostgreSQL when configured),
the SMS sandbox, and a deployment tying them to a monitor; all launched by ``simulator.harness``."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from simulator.harness.deployment import Deployment
from simulator.harness.ports import free_port
from simulator.sandbox import SmsSandbox
from tests.support.broker import Broker
from tests.support.databases import (
    POSTGRES_ENV,
    REQUIRE_POSTGRES_ENV,
    backends,
    fresh_database,
    migrated_template,
    postgres_url,
)


def pytest_report_header() -> list[str]:
    url = postgres_url()
    return [f"PostgreSQL tests: {'on ' + url if url else 'not run (set ' + POSTGRES_ENV + ' to run them)'}"]


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get(REQUIRE_POSTGRES_ENV) and not postgres_url():
        raise pytest.UsageError(
            f"{REQUIRE_POSTGRES_ENV} is set but {POSTGRES_ENV} is not: PostgreSQL tests would not run"
        )


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    with Broker("127.0.0.1", free_port(), tmp_path_factory.mktemp("mosquitto")) as running:
        yield running


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Per backend, a database migrated once for the whole session, which each test's starts as a copy of."""
    with contextlib.ExitStack() as stack:
        folder = tmp_path_factory.mktemp("templates")
        yield {backend: stack.enter_context(migrated_template(backend, folder / backend)) for backend in backends()}


@pytest.fixture(params=backends())
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_templates: dict[str, str]
) -> AsyncIterator[str]:
    """A fresh database with the schema of the newest migration (the monitor's own upgrade finds nothing to do)."""
    async with fresh_database(request.param, tmp_path, template=migrated_templates[request.param]) as url:
        yield url


@pytest.fixture
def web_port() -> int:
    return free_port()


@pytest.fixture
async def sandbox(web_port: int) -> AsyncIterator[SmsSandbox]:
    async with SmsSandbox(inbound_url=f"http://127.0.0.1:{web_port}/twilio/sms", status_step_delay=0.01) as running:
        yield running


@pytest.fixture
def deployment(tmp_path: Path, broker: Broker, sandbox: SmsSandbox, database_url: str, web_port: int) -> Deployment:
    prepared = Deployment(folder=tmp_path, broker=broker, sandbox=sandbox, database_url=database_url, web_port=web_port)
    prepared.write_files()
    return prepared

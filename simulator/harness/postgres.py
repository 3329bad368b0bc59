"""PostgreSQL for a private deployment: fresh databases on a shared server, or a cluster of its own.

``fresh_database`` makes a new, empty database on the server named by
``CALLWATCH_TEST_POSTGRES_URL`` (for example postgresql+asyncpg://postgres@127.0.0.1:5432/test)
and drops it afterwards; with ``backend="sqlite"`` it is a file in the given folder instead.
Given a ``template`` (another database made this way, already migrated: ``migrated_template``),
the new one starts as a copy of it: a test suite migrates once, not once per test (about a
second a test on PostgreSQL).

``PrivatePostgres`` is a cluster of its own on a free port, to stop, start and freeze without
touching the shared one, made with the server's own initdb/pg_ctl
(/usr/lib/postgresql/<version>/bin). As root they run as the ``postgres`` user (PostgreSQL
refuses to run as root), in a folder it owns.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Self

import asyncpg
from sqlalchemy.engine import make_url

from simulator.harness.ports import free_port

#: the shared server's SQLAlchemy URL, for the suites and the benchmarks alike
POSTGRES_ENV = "CALLWATCH_TEST_POSTGRES_URL"


def postgres_url() -> str | None:
    """The shared server's URL, None when it is not configured."""
    return os.environ.get(POSTGRES_ENV) or None


@asynccontextmanager
async def plain_connection(url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection of asyncpg's own (no SQLAlchemy, no pool) to the database of the SQLAlchemy
    ``url``: for what only PostgreSQL itself can be asked or told (create a database, list or end
    backends)."""
    connection = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        yield connection
    finally:
        await connection.close()


@asynccontextmanager
async def fresh_database(
    backend: str, folder: Path, *, prefix: str = "cw_test", template: str | None = None
) -> AsyncIterator[str]:
    """A new database (``backend`` "sqlite" or "postgresql"), empty or a copy of ``template`` (a URL
    of the same backend); its SQLAlchemy URL. Dropped afterwards."""
    if backend == "sqlite":
        path = folder / "callwatch.db"
        if template is not None:
            shutil.copyfile(str(make_url(template).database), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    base = postgres_url()
    if base is None:
        raise RuntimeError(f"a PostgreSQL database needs {POSTGRES_ENV}")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    async with plain_connection(base) as admin:
        copy = f' TEMPLATE "{make_url(template).database}"' if template is not None else ""
        await admin.execute(f'CREATE DATABASE "{name}"{copy}')
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        async with plain_connection(base) as admin:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_binaries() -> Path | None:
    """The newest installed server's bin folder (initdb, pg_ctl), None without a server."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


class PrivatePostgres:
    """A cluster of its own: ``with PrivatePostgres() as cluster: cluster.url``; stop, start, freeze, thaw."""

    def __init__(self) -> None:
        binaries = server_binaries()
        if binaries is None:
            raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
        self.binaries = binaries
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="callwatch-pg-"))
        self.data = self.folder / "data"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            owner = pwd.getpwnam("postgres")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_postgres else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=60)  # noqa: S603 - no shell

    def create(self) -> None:
        """initdb, then start."""
        initdb = str(self.binaries / "initdb")
        self._run(initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
        self.start()

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.folder / "log")
        self._run(str(self.binaries / "pg_ctl"), "-D", str(self.data), "-o", options, "-w", "-l", log, "start")

    def stop(self) -> None:
        """A clean, fast shutdown: connections are cut, new ones refused."""
        self._run(str(self.binaries / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def freeze(self) -> None:
        """SIGSTOP the server: connections stay open and nothing answers (a hung database)."""
        os.kill(self._postmaster_pid(), signal.SIGSTOP)
        for child in self._children():
            os.kill(child, signal.SIGSTOP)

    def thaw(self) -> None:
        for child in self._children():
            os.kill(child, signal.SIGCONT)
        os.kill(self._postmaster_pid(), signal.SIGCONT)

    def _postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().splitlines()[0])

    def _children(self) -> list[int]:
        listing = subprocess.run(  # noqa: S603 - no shell
            ["ps", "-o", "pid=", "--ppid", str(self._postmaster_pid())],  # noqa: S607 - ps from PATH
            capture_output=True,
            text=True,
            check=False,
        )
        return [int(pid) for pid in listing.stdout.split()]

    def destroy(self) -> None:
        """Thaw and stop the server if it runs, and remove its folder."""
        try:
            if (self.data / "postmaster.pid").exists():
                self.thaw()
                self.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Self:
        try:
            self.create()
        except BaseException:
            self.destroy()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.destroy()

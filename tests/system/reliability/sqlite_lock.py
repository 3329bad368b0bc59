"""Another process holding SQLite's write lock (a backup tool, a stuck script): the monitor cannot write."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import TracebackType

HOLD = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
connection.execute("ROLLBACK")
"""


class WriteLock:
    """``with WriteLock(path):`` another process holds the write lock until the block ends."""

    def __init__(self, database_file: Path) -> None:
        self.database_file = database_file
        self.process: subprocess.Popen[str] | None = None

    def __enter__(self) -> WriteLock:
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(self.database_file)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "locked"
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self.process is not None
        self.process.communicate(timeout=10)

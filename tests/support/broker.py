"""A private Mosquitto per test session, on a free port, with its own config and persistence.

The same broker as the demo's and the benchmarks' (``simulator.broker``), driven
synchronously so a session-wide fixture can start, restart and stop it.
"""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from simulator.broker import find_mosquitto, free_port, mosquitto_config

__all__ = ["Broker", "free_port", "mosquitto_binary"]


def mosquitto_binary() -> str:
    found = find_mosquitto()
    if found is None:
        raise RuntimeError("mosquitto is not installed: run `make test` (it installs it) or apt-get install mosquitto")
    return found


@dataclass
class Broker:
    host: str
    port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "mosquitto.conf"
        config.write_text(mosquitto_config(self.host, self.port, self.folder))
        self.process = subprocess.Popen([mosquitto_binary(), "-c", str(config)], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"mosquitto exited at start: {error}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {self.host}:{self.port} within 10 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

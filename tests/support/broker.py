"""The session's private Mosquitto: the harness's launcher (``simulator.harness.mosquitto``), under the
name and the constructor the suites use (``Broker(host, port, folder)``); started once per session by
tests/conftest.py, restartable."""

from __future__ import annotations

from pathlib import Path

from simulator.harness.mosquitto import Mosquitto
from simulator.harness.ports import free_port

__all__ = ["Broker", "free_port"]


class Broker(Mosquitto):
    """A plain private ``Mosquitto`` on ``host:port`` with its config, persistence and log in ``folder``."""

    def __init__(self, host: str, port: int, folder: Path) -> None:
        super().__init__(folder, host=host, port=port)

"""The one Mosquitto launcher: a broker process of ours, in a folder of ours, on a port of ours.

``Mosquitto`` owns the process: it writes the config file, starts the broker, waits until it
listens, and stops it (SIGTERM: persistence saved), kills it (SIGKILL: a crash), reloads it
(SIGHUP) or restarts it. The broker runs in a session of its own, so a Ctrl-C reaches only
whoever started it, who stops it last.

Configured as here, it is a plain private broker: anonymous, persistent, with the queue
limits the monitor's session needs. ``shipped_broker.ShippedBroker`` configures the same
launcher with the shipped ``config/mosquitto.conf`` instead.

    with Mosquitto(folder) as broker: ...          # or: async with Mosquitto(folder) as broker
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from simulator.harness.ports import LOCALHOST, accepts_connections, free_port
from simulator.mqtt_link import BrokerAddress

MOSQUITTO_CANDIDATES = ("mosquitto", "/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
POLL_S = 0.05
#: The largest MQTT packet a broker of ours takes, as ``max_packet_size`` in config/mosquitto.conf
#: (also the demo's embedded broker, ``simulator.broker``).
MAX_PACKET_BYTES = 256 * 1024


def find_mosquitto() -> str | None:
    """The mosquitto binary on PATH or where Debian and source builds put it; None if not installed."""
    for candidate in MOSQUITTO_CANDIDATES:
        found = shutil.which(candidate) or (candidate if Path(candidate).is_file() else None)
        if found:
            return found
    return None


def mosquitto_binary() -> str:
    found = find_mosquitto()
    if found is None:
        raise RuntimeError("mosquitto is not installed: run `make test` (it installs it) or apt-get install mosquitto")
    return found


def private_config(host: str, port: int, folder: Path) -> str:
    """A plain private broker's config: anonymous on ``host:port``, persistence and log in ``folder``."""
    return "\n".join(
        [
            f"listener {port} {host}",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {folder}/",
            "autosave_interval 1",
            # the monitor's persistent session must hold everything sent while it is down
            "max_queued_messages 1000000",
            # how many messages may await the monitor's acknowledgement (after its commit):
            # the ceiling of one batch, so of throughput (config/mosquitto.conf explains)
            "max_inflight_messages 1000",
            # as config/mosquitto.conf: a client sending a bigger packet is cut off before it is read
            f"max_packet_size {MAX_PACKET_BYTES}",
            f"log_dest file {folder}/mosquitto.log",
            "log_type error",
            "log_type warning",
            "",
        ]
    )


class Mosquitto:
    """A private Mosquitto in ``folder`` on ``host:port`` (a free port unless given).

    Started by ``start()`` or by entering it (``with`` or ``async with``); stopped on the way out.
    Subclasses configure it otherwise by overriding ``config_text`` (and ``port``, the one waited on).
    """

    def __init__(self, folder: Path, *, host: str = LOCALHOST, port: int | None = None) -> None:
        self.folder = folder
        self.host = host
        #: the port waited on at start (the only listener of the plain private broker)
        self.port = free_port(host) if port is None else port
        self.process: subprocess.Popen[bytes] | None = None
        self.binary = ""

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def address(self) -> BrokerAddress:
        return BrokerAddress(self.host, self.port)

    @property
    def kind(self) -> str:
        return f"Mosquitto ({self.binary or find_mosquitto()})"

    @property
    def config_path(self) -> Path:
        return self.folder / "mosquitto.conf"

    @property
    def log_path(self) -> Path:
        return self.folder / "mosquitto.log"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("mosquitto is not running")
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def config_text(self) -> str:
        return private_config(self.host, self.port, self.folder)

    def start(self) -> None:
        """Write the config, start the broker and return once it listens; RuntimeError if it does not."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self.config_text())
        self.binary = mosquitto_binary()
        errors = self.folder / "mosquitto.stderr"
        with errors.open("wb") as stderr:
            self.process = subprocess.Popen(  # noqa: S603 - our own config file, no shell
                [self.binary, "-c", str(self.config_path)],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not accepts_connections(self.host, self.port):
            if self.process.poll() is not None:
                self.process = None
                said = errors.read_text(errors="replace").strip()
                raise RuntimeError(f"mosquitto exited at start: {said} {self.log()}".strip())
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"mosquitto did not listen on {self.host}:{self.port} within {START_TIMEOUT_S:g} s")
            time.sleep(POLL_S)

    def stop(self) -> None:
        """SIGTERM, as `systemctl stop` does: Mosquitto saves its persistence file on the way down."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL: a crash; whatever arrived since the last autosave is gone."""
        self._end(signal.SIGKILL)

    def restart(self) -> None:
        """Stop (SIGTERM) and start again, on the same port with the same persistence."""
        self.stop()
        self.start()

    def reload(self) -> None:
        """SIGHUP: read the password file and ACL again."""
        if self.process is None:
            raise RuntimeError("mosquitto is not running")
        self.process.send_signal(signal.SIGHUP)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _end(self, signum: signal.Signals) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signum)
            self.process.wait(timeout=STOP_TIMEOUT_S)
        self.process = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.stop)

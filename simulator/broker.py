"""A private MQTT broker for demos and benchmarks, as one async context manager.

Mosquitto when it is installed (its own config, persistence and log in a folder of ours,
on a free port), otherwise the embedded ``amqtt`` broker inside this event loop, so that
the demo needs nothing installed beforehand.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from simulator.mqtt_link import BrokerAddress

MOSQUITTO_CANDIDATES = ("mosquitto", "/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")
START_TIMEOUT_S = 10.0


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def find_mosquitto() -> str | None:
    for candidate in MOSQUITTO_CANDIDATES:
        found = shutil.which(candidate) or (candidate if Path(candidate).is_file() else None)
        if found:
            return found
    return None


def mosquitto_config(host: str, port: int, folder: Path) -> str:
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
            f"log_dest file {folder}/mosquitto.log",
            "log_type error",
            "log_type warning",
            "",
        ]
    )


class PrivateBroker:
    """``async with PrivateBroker(folder) as broker: broker.address``; ``prefer="amqtt"`` forces the embedded one."""

    def __init__(self, folder: Path, *, host: str = "127.0.0.1", prefer: str = "mosquitto") -> None:
        self.folder = folder
        self.host = host
        self.port = free_port(host)
        self._prefer = prefer
        self._process: asyncio.subprocess.Process | None = None
        self._embedded: Any = None
        self.kind = ""

    @property
    def address(self) -> BrokerAddress:
        return BrokerAddress(self.host, self.port)

    @property
    def url(self) -> str:
        return self.address.url

    async def __aenter__(self) -> Self:
        binary = find_mosquitto() if self._prefer == "mosquitto" else None
        if binary is not None:
            await self._start_mosquitto(binary)
        else:
            await self._start_amqtt()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._process is not None:
            if self._process.returncode is None:
                self._process.terminate()
                await self._process.wait()
            self._process = None
        if self._embedded is not None:
            with contextlib.suppress(Exception):
                await self._embedded.shutdown()
            self._embedded = None

    async def _start_mosquitto(self, binary: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "mosquitto.conf"
        config.write_text(mosquitto_config(self.host, self.port, self.folder))
        # A session of its own: Ctrl-C reaches only us, and we stop the broker last, after the monitor.
        self._process = await asyncio.create_subprocess_exec(
            binary,
            "-c",
            str(config),
            stderr=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        self.kind = f"Mosquitto ({binary})"
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT_S
        while asyncio.get_running_loop().time() < deadline:
            if self._process.returncode is not None:
                error = await self._process.stderr.read() if self._process.stderr else b""
                raise RuntimeError(f"mosquitto exited at start: {error.decode().strip()}")
            if await _listening(self.host, self.port):
                return
            await asyncio.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {self.host}:{self.port} within {START_TIMEOUT_S:.0f} s")

    async def _start_amqtt(self) -> None:
        from amqtt.broker import Broker

        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
        self._embedded = Broker(config)
        await self._embedded.start()
        self.kind = "embedded amqtt broker"


async def _listening(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError:
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True

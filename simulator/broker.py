"""The demo's private MQTT broker, as one async context manager.

Mosquitto when it is installed (the harness's launcher, ``simulator.harness.mosquitto``: its
own config, persistence and log in a folder of ours, on a free port), otherwise the embedded
``amqtt`` broker inside this event loop, so that the demo needs nothing installed beforehand.
``amqtt`` is imported only then. Either takes no packet over ``MAX_PACKET_BYTES`` (256 KiB), as
the shipped config/mosquitto.conf.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from simulator.harness.mosquitto import MAX_PACKET_BYTES, Mosquitto, find_mosquitto
from simulator.harness.ports import LOCALHOST, free_port
from simulator.mqtt_link import BrokerAddress

EMBEDDED_LISTENER = "default"


class PrivateBroker:
    """``async with PrivateBroker(folder) as broker: broker.address``; ``prefer="amqtt"`` forces the embedded one."""

    def __init__(self, folder: Path, *, host: str = LOCALHOST, prefer: str = "mosquitto") -> None:
        self.folder = folder
        self.host = host
        self.port = free_port(host)
        self._prefer = prefer
        self._mosquitto: Mosquitto | None = None
        self._embedded: Any = None
        self._listener: asyncio.Server | None = None
        self.kind = ""

    @property
    def address(self) -> BrokerAddress:
        return BrokerAddress(self.host, self.port)

    @property
    def url(self) -> str:
        return self.address.url

    async def __aenter__(self) -> Self:
        if self._prefer == "mosquitto" and find_mosquitto() is not None:
            mosquitto = Mosquitto(self.folder, host=self.host, port=self.port)
            await mosquitto.__aenter__()
            self._mosquitto = mosquitto
            self.kind = mosquitto.kind
        else:
            await self._start_amqtt()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._mosquitto is not None:
            await self._mosquitto.__aexit__(exc_type, exc, tb)
            self._mosquitto = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if self._embedded is not None:
            with contextlib.suppress(Exception):
                await self._embedded.shutdown()
            self._embedded = None

    async def _start_amqtt(self) -> None:
        from amqtt.broker import Broker

        # amqtt has no packet size limit of its own: it listens through ours (an "external"
        # listener), whose reader cuts off a client sending a packet over MAX_PACKET_BYTES.
        config = {
            "listeners": {EMBEDDED_LISTENER: {"type": "external", "bind": f"{self.host}:{self.port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
        self._embedded = Broker(config)
        await self._embedded.start()
        self._listener = await asyncio.start_server(self._connected, self.host, self.port, reuse_address=True)
        self.kind = "embedded amqtt broker"

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        from amqtt.adapters import StreamWriterAdapter

        await self._embedded.external_connected(
            CappedReader(reader, writer), StreamWriterAdapter(writer), EMBEDDED_LISTENER
        )


class CappedReader:
    """amqtt's reader of one connection (its ``ReaderAdapter`` interface), closing the connection,
    as Mosquitto's ``max_packet_size`` does, when asked for more than ``MAX_PACKET_BYTES`` at
    once: amqtt reads a packet's payload in one piece of its announced length, before it holds
    any of it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self, n: int = -1) -> bytes:
        if n < 0 or n > MAX_PACKET_BYTES:
            self._writer.close()
            raise ConnectionResetError(f"a packet over {MAX_PACKET_BYTES} bytes: connection closed")
        return await self._reader.readexactly(n)

    def feed_eof(self) -> None:
        self._reader.feed_eof()

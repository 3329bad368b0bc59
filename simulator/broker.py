"""The demo's private MQTT broker, as one async context manager.

Mosquitto when it is installed (the harness's launcher, ``simulator.harness.mosquitto``: its
own config, persistence and log in a folder of ours, on a free port), otherwise the embedded
``amqtt`` broker inside this event loop, so that the demo needs nothing installed beforehand.
``amqtt`` is imported only then.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from simulator.harness.mosquitto import Mosquitto, find_mosquitto
from simulator.harness.ports import LOCALHOST, free_port
from simulator.mqtt_link import BrokerAddress


class PrivateBroker:
    """``async with PrivateBroker(folder) as broker: broker.address``; ``prefer="amqtt"`` forces the embedded one."""

    def __init__(self, folder: Path, *, host: str = LOCALHOST, prefer: str = "mosquitto") -> None:
        self.folder = folder
        self.host = host
        self.port = free_port(host)
        self._prefer = prefer
        self._mosquitto: Mosquitto | None = None
        self._embedded: Any = None
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
        if self._embedded is not None:
            with contextlib.suppress(Exception):
                await self._embedded.shutdown()
            self._embedded = None

    async def _start_amqtt(self) -> None:
        from amqtt.broker import Broker

        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
        self._embedded = Broker(config)
        await self._embedded.start()
        self.kind = "embedded amqtt broker"

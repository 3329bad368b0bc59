"""Connections for a set of simulated devices, as one async context manager.

Devices whose family holds its own MQTT connection (native, Tasmota, Shelly, OwnTracks)
get one each when they come online, with their family's Last Will; going offline drops it
without a DISCONNECT, so the broker itself publishes the will. Devices that speak through
a gateway (zigbee2mqtt's bridge, the Traccar server) share one gateway connection, which
announces their availability the way the gateway does.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Sequence
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Self

from simulator.device import SimulatedDevice
from simulator.families import Publication
from simulator.mqtt_link import BrokerAddress, MqttLink


class UnknownDevice(KeyError):
    pass


class Fleet:
    def __init__(self, address: BrokerAddress, devices: Iterable[SimulatedDevice], *, name: str = "sim") -> None:
        self.address = address
        self.devices = {device.id: device for device in devices}
        self._name = name
        self._links: dict[str, MqttLink] = {}
        self._gateway: MqttLink | None = None
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> Self:
        self._gateway = await self._stack.enter_async_context(
            MqttLink(self.address, f"{self._name}-gateway-{uuid.uuid4().hex[:8]}")
        )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        links, self._links = list(self._links.values()), {}
        await asyncio.gather(*(link.__aexit__(None, None, None) for link in links), return_exceptions=True)
        await self._stack.aclose()

    def device(self, device_id: str) -> SimulatedDevice:
        try:
            return self.devices[device_id]
        except KeyError:
            known = ", ".join(sorted(self.devices)[:20])
            raise UnknownDevice(f"no simulated device {device_id!r}; known: {known}") from None

    def add(self, device: SimulatedDevice) -> None:
        self.devices[device.id] = device

    def is_connected(self, device_id: str) -> bool:
        return device_id in self._links

    async def publish(self, device_id: str, publications: Sequence[Publication]) -> None:
        """Send as the device: on its own connection when it has one open, else the gateway's."""
        link = self._links.get(device_id) or self._gateway_link()
        for publication in publications:
            await link.publish(publication)

    async def come_online(self, device_id: str) -> None:
        """Connect (with the Last Will) and announce it, or have the gateway announce it."""
        device = self.device(device_id)
        if not device.has_last_will:
            await self._gateway_link().publish(device.availability(True))
            return
        if device_id in self._links:
            return
        link = MqttLink(self.address, device_id, will=device.availability(False))
        await link.__aenter__()
        self._links[device_id] = link
        await link.publish(device.availability(True))

    async def drop(self, device_id: str) -> None:
        """Go away abruptly: the connection is cut and the broker publishes the Last Will."""
        device = self.device(device_id)
        if not device.has_last_will:
            await self._gateway_link().publish(device.availability(False))
            return
        link = self._links.pop(device_id, None)
        if link is None:
            # Not connected yet: connect with the will first, so that there is one to publish.
            await self.come_online(device_id)
            link = self._links.pop(device_id)
        await link.drop()

    def _gateway_link(self) -> MqttLink:
        if self._gateway is None:
            raise RuntimeError("use the fleet inside 'async with'")
        return self._gateway

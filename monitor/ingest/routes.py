"""Which adapters may read a topic, and the subscriptions that cover every device in the directory."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from aiomqtt import Topic
from sqlalchemy import select

import devices
from devices.base import DeviceAdapter, DeviceProfile
from monitor.directory.sync import DIRECTORY_REVISION_KEY
from monitor.ingest.topic_memo import TopicMemo
from monitor.oncall.positions import VOLUNTEER_PHONE_KIND
from monitor.store.database import Database
from monitor.store.models import Device, ServiceMeta, VolunteerPhone


@dataclass(frozen=True)
class Routes:
    """MQTT filters per family, from the devices in the directory."""

    filters: dict[str, frozenset[str]] = field(default_factory=dict)
    #: the adapters by protocol (``devices.registry()`` walks the package: looked up once)
    _registry: Mapping[str, DeviceAdapter] = field(
        default_factory=devices.registry, init=False, repr=False, compare=False
    )
    #: each topic's answer, worked out once (tuning: ``monitor.ingest.topic_memo``)
    _remembered: TopicMemo[tuple[DeviceAdapter, ...]] = field(
        default_factory=TopicMemo, init=False, repr=False, compare=False
    )

    @classmethod
    def for_devices(cls, profiles: Iterable[tuple[str, DeviceProfile]]) -> Routes:
        by_protocol: dict[str, set[str]] = {}
        registry = devices.registry()
        for protocol, profile in profiles:
            adapter = registry.get(protocol)
            if adapter is not None:
                by_protocol.setdefault(protocol, set()).update(adapter.topic_filters(profile))
        return cls({protocol: frozenset(filters) for protocol, filters in by_protocol.items()})

    @property
    def subscriptions(self) -> frozenset[str]:
        return frozenset(topic_filter for filters in self.filters.values() for topic_filter in filters)

    def adapters_for(self, topic: str) -> tuple[DeviceAdapter, ...]:
        """Adapters whose subscriptions this topic matches, in a stable order: ``matching``,
        remembered per topic (tuning: ``monitor.ingest.topic_memo``)."""
        return self._remembered.answer(topic, self.matching)

    def matching(self, topic: str) -> tuple[DeviceAdapter, ...]:
        """Adapters whose subscriptions this topic matches, in a stable order: every filter tried."""
        return tuple(
            self._registry[protocol]
            for protocol in sorted(self.filters)
            if any(Topic(topic).matches(topic_filter) for topic_filter in self.filters[protocol])
        )


async def load_routes(database: Database) -> tuple[Routes, str | None]:
    """The subscriptions for every device in the database, and the directory revision they reflect."""
    async with database.read() as session:
        revision = await session.scalar(select(ServiceMeta.value).where(ServiceMeta.key == DIRECTORY_REVISION_KEY))
        rows = (
            await session.execute(
                select(
                    Device.protocol,
                    Device.id,
                    Device.kind,
                    Device.topic,
                    Device.serial,
                )
            )
        ).all()
        phones = (
            await session.execute(
                select(
                    VolunteerPhone.protocol,
                    VolunteerPhone.id,
                    VolunteerPhone.topic,
                    VolunteerPhone.serial,
                )
            )
        ).all()
    profiles = [
        (protocol, DeviceProfile(device_id=device_id, kind=kind, topic=topic, serial=serial))
        for protocol, device_id, kind, topic, serial in rows
    ]
    profiles += [
        (protocol, DeviceProfile(device_id=phone_id, kind=VOLUNTEER_PHONE_KIND, topic=topic, serial=serial))
        for protocol, phone_id, topic, serial in phones
    ]
    return Routes.for_devices(profiles), revision

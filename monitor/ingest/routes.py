"""Which adapters may read a topic, and the subscriptions that cover every device."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from aiomqtt import Topic

import devices
from devices.base import DeviceAdapter, DeviceProfile
from monitor.ingest.topic_memo import TopicMemo


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

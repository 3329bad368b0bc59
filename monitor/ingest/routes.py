"""Which adapters may read a topic, and the subscriptions that cover every device."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from aiomqtt import Topic

import devices
from devices.base import DeviceAdapter, DeviceProfile


@dataclass(frozen=True)
class Routes:
    """MQTT filters per family, from the devices in the directory."""

    filters: dict[str, frozenset[str]] = field(default_factory=dict)

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
        """Adapters whose subscriptions this topic matches, in a stable order."""
        return tuple(
            devices.registry()[protocol]
            for protocol in sorted(self.filters)
            if any(_matches(topic, topic_filter) for topic_filter in self.filters[protocol])
        )


@lru_cache(maxsize=65536)
def _matches(topic: str, topic_filter: str) -> bool:
    return Topic(topic).matches(topic_filter)

"""Which adapters may read a topic, and the subscriptions that cover every device."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from aiomqtt import Topic

import devices
from devices.base import DeviceAdapter, DeviceProfile

#: how many topics' answers are kept: a directory of 100,000 devices uses about two topics each
TOPICS_REMEMBERED = 250_000


@dataclass(frozen=True)
class Routes:
    """MQTT filters per family, from the devices in the directory."""

    filters: dict[str, frozenset[str]] = field(default_factory=dict)
    #: each topic's answer, worked out once (a topic is asked about at every message it carries)
    _adapters_by_topic: dict[str, tuple[DeviceAdapter, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
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
        """Adapters whose subscriptions this topic matches, in a stable order."""
        adapters = self._adapters_by_topic.get(topic)
        if adapters is None:
            if len(self._adapters_by_topic) >= TOPICS_REMEMBERED:
                self._adapters_by_topic.clear()  # bounded: anyone may publish to made-up topics
            registry = devices.registry()
            adapters = tuple(
                registry[protocol]
                for protocol in sorted(self.filters)
                if any(Topic(topic).matches(topic_filter) for topic_filter in self.filters[protocol])
            )
            self._adapters_by_topic[topic] = adapters
        return adapters

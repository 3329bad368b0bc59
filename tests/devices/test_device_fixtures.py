"""Every sample line in tests/fixtures/devices, replayed through its adapter as the monitor would.

Per file, in order: locate the device (it must be one the directory knows, and one of its
topic filters must cover the topic), parse with the state kept for that device, resolve
presses through the device's action map, keep only news from retained messages, and compare
the first remaining event with the line's ``expect``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pytest
from paho.mqtt.client import topic_matches_sub

from devices import registry
from devices.base import AdapterState, DeviceEvent, EventType, Parsed
from devices.press_meanings import resolve_presses
from tests.devices.kit import FIXTURE_DEVICES, FIXTURES, sample_lines

#: availability is always retained, so it is news even when retained
ALWAYS_NEWS = frozenset({EventType.ONLINE, EventType.OFFLINE})
EXPECT_WORDS: Mapping[EventType, str] = {EventType.BATTERY: "battery", EventType.LOW_BATTERY: "battery"}


def expectation(events: tuple[DeviceEvent, ...]) -> str:
    """The fixture ``expect`` word for what is left of a message."""
    if not events:
        return "none"
    return EXPECT_WORDS.get(events[0].type, events[0].type.value)


def news(events: tuple[DeviceEvent, ...], retained: bool) -> tuple[DeviceEvent, ...]:
    return tuple(event for event in events if not retained or event.type in ALWAYS_NEWS)


def replay(path: Path) -> list[str]:
    """Replay one sample file; returns one message per line that did not go as expected."""
    protocol = path.name.split(".", 1)[0]
    adapter = registry()[protocol]
    devices = {adapter.device_ref(device): device for device in FIXTURE_DEVICES[protocol]}
    states: dict[str, AdapterState] = {}
    problems: list[str] = []
    for line in sample_lines(path):
        message = line.message
        ref = adapter.locate(message)
        if not isinstance(ref, str) or ref not in devices:
            problems.append(f"line {line.number}: located {ref!r}, not one of {sorted(devices)}")
            continue
        device = replace(devices[ref], action_map=line.action_map)
        if not any(topic_matches_sub(pattern, message.topic) for pattern in adapter.topic_filters(device)):
            problems.append(f"line {line.number}: {message.topic!r} is outside {adapter.topic_filters(device)}")
        result = adapter.parse(message, device, states.get(ref, {}))
        if not isinstance(result, Parsed):
            problems.append(f"line {line.number}: rejected: {result}")
            continue
        states[ref] = result.state
        got = expectation(news(resolve_presses(result.events, device), message.retained))
        if got != line.expect:
            problems.append(f"line {line.number}: expected {line.expect}, got {got} from {result.events}")
    return problems


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.jsonl")), ids=lambda path: path.name)
def test_sample_lines_yield_what_they_expect(path: Path) -> None:
    assert replay(path) == []


def test_samples_cover_every_third_party_family() -> None:
    families = {path.name.split(".", 1)[0] for path in FIXTURES.glob("*.jsonl")}
    assert families == set(FIXTURE_DEVICES)

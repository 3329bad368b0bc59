"""Properties every adapter in the registry keeps, whatever arrives on its topics.

Adapters are pure and total (docs/architecture.md, invariant 5): any bytes, on any of the family's real
topics, with any state kept from before, give a Parsed with JSON state or a typed Rejection.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt.client import topic_matches_sub

from devices import registry
from devices.base import (
    MAX_PAYLOAD_BYTES,
    DeviceEvent,
    DeviceMessage,
    DeviceProfile,
    EventType,
    JsonValue,
    Parsed,
    ParseResult,
    Rejection,
    RejectReason,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "devices"
RECEIVED_AT = datetime(2026, 5, 2, 8, 16, tzinfo=UTC)
WATCH_SERIAL = "868003031234567"

#: per protocol: a device as the directory describes it, and every topic it publishes on
FAMILIES: Mapping[str, tuple[DeviceProfile, tuple[str, ...]]] = {
    "native": (
        DeviceProfile("btn-0001", "button", "callwatch/btn-0001"),
        ("callwatch/btn-0001/event", "callwatch/btn-0001/status"),
    ),
    "owntracks": (
        DeviceProfile("phone-01", "gps_phone", "owntracks/callwatch/phone-01"),
        ("owntracks/callwatch/phone-01", "owntracks/callwatch/phone-01/event"),
    ),
    "zigbee2mqtt": (
        DeviceProfile("hall", "button", "zigbee2mqtt/hall"),
        ("zigbee2mqtt/hall", "zigbee2mqtt/hall/availability"),
    ),
    "tasmota": (
        DeviceProfile("bedside", "button", "bedside"),
        (
            "stat/bedside/RESULT",
            "stat/bedside/BUTTON1",
            "stat/bedside/POWER",
            "tele/bedside/LWT",
            "tele/bedside/STATE",
        ),
    ),
    "shelly": (
        DeviceProfile("button1", "button", "shellies/button1"),
        ("shellies/button1/input_event/0", "shellies/button1/sensor/battery", "shellies/button1/online"),
    ),
    "shelly_gen2": (
        DeviceProfile("plus-i4", "button", "plus-i4"),
        ("plus-i4/events/rpc", "plus-i4/online"),
    ),
    "traccar": (DeviceProfile("watch", "gps_phone", "events", serial=WATCH_SERIAL), ("events",)),
}
#: native has no sample file (yet): two messages of docs/native-protocol.md
NATIVE_SAMPLES = (
    ("callwatch/btn-0001/event", b'{"type":"sos","id":"e-1","ts":1777709730,"battery":80,"lat":30.2}'),
    ("callwatch/btn-0001/status", b"online"),
)
#: the body every topic-addressed family ignores and Traccar needs to locate the device
TRACCAR_DEVICE_ONLY = json.dumps({"device": {"uniqueId": WATCH_SERIAL}}).encode()
OVERSIZED_PAYLOADS = (b"x" * (MAX_PAYLOAD_BYTES + 1), b'{"a":"%s"}' % (b"x" * MAX_PAYLOAD_BYTES))
WRONG_VALUES: tuple[JsonValue, ...] = (None, True, 0, -1, 1e308, "", "x", "NaN", [], [1, "a"], {}, {"a": {}})

FieldPath = tuple[str | int, ...]


@cache
def samples(protocol: str) -> tuple[tuple[str, bytes], ...]:
    """Real ``(topic, payload)`` pairs of this family, from the fixture files."""
    lines = [
        json.loads(text)
        for path in sorted(FIXTURES.glob(f"{protocol}.*jsonl"))
        if path.name.split(".", 1)[0] == protocol
        for text in path.read_text().splitlines()
    ]
    return tuple((line["topic"], line["payload"].encode()) for line in lines) or NATIVE_SAMPLES


def json_samples(protocol: str) -> list[tuple[str, JsonValue]]:
    return [(topic, json.loads(payload)) for topic, payload in samples(protocol) if payload.startswith(b"{")]


def field_names() -> list[str]:
    """Every object key in the samples, so that generated objects hit real fields."""
    names: set[str] = set()
    pending = [value for protocol in FAMILIES for _, value in json_samples(protocol)]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            names.update(value)
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return sorted(names)


def field_paths(value: JsonValue, prefix: FieldPath = ()) -> list[FieldPath]:
    """The path of every value nested in ``value``."""
    children: list[tuple[str | int, JsonValue]] = []
    if isinstance(value, dict):
        children = list(value.items())
    elif isinstance(value, list):
        children = list(enumerate(value))
    found: list[FieldPath] = []
    for key, child in children:
        found.append((*prefix, key))
        found.extend(field_paths(child, (*prefix, key)))
    return found


def replaced(value: JsonValue, path: FieldPath, new: JsonValue, *, delete: bool = False) -> JsonValue:
    """A copy of ``value`` with the value at ``path`` replaced by ``new``, or deleted."""
    if not path:
        return new
    key, rest = path[0], path[1:]
    if isinstance(value, dict) and isinstance(key, str):
        fields = dict(value)
        if delete and not rest:
            del fields[key]
        else:
            fields[key] = replaced(value[key], rest, new, delete=delete)
        return fields
    if isinstance(value, list) and isinstance(key, int):
        items = list(value)
        if delete and not rest:
            del items[key]
        else:
            items[key] = replaced(value[key], rest, new, delete=delete)
        return items
    return value


def huge_numbers(value: JsonValue) -> JsonValue:
    """``value`` with every number replaced by an integer far beyond float range."""
    if isinstance(value, dict):
        return {key: huge_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [huge_numbers(item) for item in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return 10**400
    return value


keys = st.sampled_from(field_names()) | st.text(max_size=10)
finite_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**18), max_value=10**18)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
scalars = finite_scalars | st.floats() | st.sampled_from(["", "NaN", "1e400", "-1", "84", "true", "online"])
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=5),
    max_leaves=16,
)
finite_json_values = st.recursive(
    finite_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3),
    max_leaves=8,
)
#: state kept from before: the adapters' own keys with any value, plus anything else
state_keys = st.sampled_from(["sos", "event_cnt"]) | st.text(max_size=8)
prior_states = st.dictionaries(state_keys, finite_json_values)


@cache
def payloads(protocol: str) -> st.SearchStrategy[bytes]:
    """Garbage, arbitrary JSON, and real samples with one field broken or cut short."""
    originals = [value for _, value in json_samples(protocol)]
    one_field_broken = st.sampled_from(originals).flatmap(
        lambda value: st.builds(replaced, st.just(value), st.sampled_from(field_paths(value)), json_values)
    )
    cut_short = st.sampled_from([payload for _, payload in samples(protocol)]).flatmap(
        lambda raw: st.integers(0, len(raw)).map(lambda length: raw[:length])
    )
    return st.one_of(
        one_field_broken.map(lambda value: json.dumps(value).encode()),
        cut_short,
        st.binary(max_size=120),
        st.text(max_size=40).map(str.encode),
        json_values.map(lambda value: json.dumps(value).encode()),
    )


def check_result(result: ParseResult) -> None:
    """What the monitor relies on in every adapter result."""
    if isinstance(result, Rejection):
        assert isinstance(result.reason, RejectReason)
        assert isinstance(result.detail, str) and result.detail
        return
    assert isinstance(result, Parsed)
    assert json.loads(json.dumps(result.state, allow_nan=False)) == result.state
    for event in result.events:
        assert isinstance(event, DeviceEvent)
        assert isinstance(event.type, EventType)
        assert event.battery is None or 0 <= event.battery <= 100
        assert event.type is not EventType.PRESS or event.action
        if event.position is not None:
            assert -90 <= event.position.lat <= 90 and -180 <= event.position.lon <= 180


def test_every_registered_adapter_is_described_here() -> None:
    assert set(registry()) == set(FAMILIES)


@pytest.mark.parametrize("protocol", sorted(FAMILIES))
@settings(deadline=None)
@given(data=st.data())
def test_parse_and_locate_are_total(protocol: str, data: st.DataObject) -> None:
    adapter = registry()[protocol]
    device, topics = FAMILIES[protocol]
    topic, payload = data.draw(st.sampled_from(topics)), data.draw(payloads(protocol))
    message = DeviceMessage(topic, payload, data.draw(st.booleans()), RECEIVED_AT)
    located = adapter.locate(message)
    assert isinstance(located, str) or isinstance(located.reason, RejectReason)
    check_result(adapter.parse(message, device, data.draw(prior_states)))


@pytest.mark.parametrize("protocol", sorted(FAMILIES))
@given(topic=st.text(max_size=60), payload=st.binary(max_size=60))
def test_locate_is_total_on_any_topic(protocol: str, topic: str, payload: bytes) -> None:
    located = registry()[protocol].locate(DeviceMessage(topic, payload, False, RECEIVED_AT))
    assert isinstance(located, str) or isinstance(located.reason, RejectReason)


@pytest.mark.parametrize("protocol", sorted(FAMILIES))
def test_every_field_of_every_sample_survives_wrong_values_or_removal(protocol: str) -> None:
    adapter = registry()[protocol]
    device, _ = FAMILIES[protocol]
    for topic, original in json_samples(protocol):
        for path in field_paths(original):
            variants = [replaced(original, path, None, delete=True)]
            variants += [replaced(original, path, wrong) for wrong in WRONG_VALUES]
            for variant in variants:
                message = DeviceMessage(topic, json.dumps(variant).encode(), False, RECEIVED_AT)
                check_result(adapter.parse(message, device, {}))


@pytest.mark.parametrize("protocol", sorted(FAMILIES))
def test_integers_beyond_float_range_are_not_fatal(protocol: str) -> None:
    adapter = registry()[protocol]
    device, _ = FAMILIES[protocol]
    for topic, original in json_samples(protocol):
        message = DeviceMessage(topic, json.dumps(huge_numbers(original)).encode(), False, RECEIVED_AT)
        check_result(adapter.parse(message, device, {}))


@pytest.mark.parametrize("protocol", sorted(FAMILIES))
@pytest.mark.parametrize("payload", OVERSIZED_PAYLOADS, ids=["text", "json"])
def test_oversized_payloads_are_refused_on_every_topic(protocol: str, payload: bytes) -> None:
    adapter = registry()[protocol]
    device, topics = FAMILIES[protocol]
    for topic in topics:
        result = adapter.parse(DeviceMessage(topic, payload, False, RECEIVED_AT), device, {})
        assert isinstance(result, Rejection) and result.reason is RejectReason.OVERSIZED


@pytest.mark.parametrize("protocol", sorted(FAMILIES))
def test_filters_cover_every_topic_and_locate_finds_the_device(protocol: str) -> None:
    adapter = registry()[protocol]
    device, topics = FAMILIES[protocol]
    for topic in topics:
        assert any(topic_matches_sub(pattern, topic) for pattern in adapter.topic_filters(device)), topic
        message = DeviceMessage(topic, TRACCAR_DEVICE_ONLY, False, RECEIVED_AT)
        assert adapter.locate(message) == adapter.device_ref(device)


@pytest.mark.parametrize("protocol", sorted(FAMILIES))
def test_devices_of_a_family_share_their_subscriptions(protocol: str) -> None:
    adapter = registry()[protocol]
    device, _ = FAMILIES[protocol]
    first = replace(device, device_id="a-1", topic=adapter.default_topic("a-1"), serial=None)
    second = replace(device, device_id="b-2", topic=adapter.default_topic("b-2"), serial=None)
    assert adapter.topic_filters(first) == adapter.topic_filters(second)
    assert adapter.device_ref(first) != adapter.device_ref(second)

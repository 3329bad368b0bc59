"""Properties every adapter in the registry keeps, whatever arrives on its topics.

Adapters are pure and total (docs/architecture.md, invariant 5): any bytes, on any of the family's real
topics, with any state kept from before, give a Parsed with JSON state or a typed Rejection.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt.client import topic_matches_sub

from devices import registry
from devices.base import (
    MAX_PAYLOAD_BYTES,
    DeviceEvent,
    DeviceMessage,
    EventType,
    JsonValue,
    Parsed,
    ParseResult,
    Rejection,
    RejectReason,
)
from tests.devices.kit import (
    FAMILIES,
    RECEIVED_AT,
    WATCH_SERIAL,
    field_paths,
    finite_json_values,
    json_samples,
    payloads,
    replaced,
)

#: the body every topic-addressed family ignores and Traccar needs to locate the device
TRACCAR_DEVICE_ONLY = json.dumps({"device": {"uniqueId": WATCH_SERIAL}}).encode()
OVERSIZED_PAYLOADS = (b"x" * (MAX_PAYLOAD_BYTES + 1), b'{"a":"%s"}' % (b"x" * MAX_PAYLOAD_BYTES))
WRONG_VALUES: tuple[JsonValue, ...] = (None, True, 0, -1, 1e308, "", "x", "NaN", [], [1, "a"], {}, {"a": {}})


def huge_numbers(value: JsonValue) -> JsonValue:
    """``value`` with every number replaced by an integer far beyond float range."""
    if isinstance(value, dict):
        return {key: huge_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [huge_numbers(item) for item in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return 10**400
    return value


#: state kept from before: the adapters' own keys with any value, plus anything else
state_keys = st.sampled_from(["sos", "event_cnt"]) | st.text(max_size=8)
prior_states = st.dictionaries(state_keys, finite_json_values)


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

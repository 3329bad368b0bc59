"""zigbee2mqtt: presses, the SOS state edge, reports and availability."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from devices.base import (
    AdapterState,
    DeviceEvent,
    DeviceProfile,
    EventType,
    JsonValue,
    ParseResult,
    Rejection,
    RejectReason,
)
from devices.zigbee2mqtt import ADAPTER
from tests.devices.kit import message, parse_with, parsed, refused_topic

BUTTON = DeviceProfile("hall", "button", "zigbee2mqtt/hall")


def parse(body: object, *, suffix: str = "", state: AdapterState | None = None) -> ParseResult:
    return parse_with(ADAPTER, BUTTON, BUTTON.topic + suffix, body, state)


def test_action_is_a_press_carrying_battery_and_link_quality() -> None:
    body = {"action": "single", "battery": 100, "linkquality": 167, "voltage": 3245}
    assert parsed(parse(body)).events == (DeviceEvent(EventType.PRESS, battery=100, signal=167, action="single"),)


@pytest.mark.parametrize("follow_up", ["", None, "   "])
def test_empty_action_follow_up_raises_nothing(follow_up: str | None) -> None:
    assert parsed(parse({"action": follow_up, "battery": 100, "linkquality": 18})).events == ()


@pytest.mark.parametrize("release", ["release", "on_press_release", "hold_release"])
def test_a_release_is_not_a_second_press(release: str) -> None:
    assert parsed(parse({"action": release, "battery": 100})).events == ()


def test_sos_state_raises_an_sos_on_the_rising_edge_only() -> None:
    state: AdapterState = {}
    raised = []
    for sos in (True, True, False, True):
        result = parsed(parse({"sos": sos, "battery": 90}, state=state))
        state = result.state
        raised.append(EventType.SOS in {event.type for event in result.events})
    assert raised == [True, False, False, True]
    assert state == {"sos": True}


def test_messages_without_sos_keep_the_state_as_it_was() -> None:
    state: AdapterState = {"sos": True}
    assert parsed(parse({"battery": 90}, state=state)).state is state


def test_sos_state_ignores_a_garbled_previous_state() -> None:
    result = parsed(parse({"sos": True}, state={"sos": "yes"}))
    assert [event.type for event in result.events] == [EventType.SOS]


def test_report_without_action_is_battery_or_heartbeat() -> None:
    assert parsed(parse({"battery": 97, "linkquality": 150})).events == (
        DeviceEvent(EventType.BATTERY, battery=97, signal=150),
    )
    assert parsed(parse({"linkquality": 120})).events == (DeviceEvent(EventType.HEARTBEAT, signal=120),)
    (low,) = parsed(parse({"battery": 8, "battery_low": True})).events
    assert (low.type, low.battery) == (EventType.LOW_BATTERY, 8)


def test_out_of_range_numbers_are_left_out() -> None:
    (report,) = parsed(parse({"battery": 250, "linkquality": -3})).events
    assert (report.type, report.battery, report.signal) == (EventType.HEARTBEAT, None, None)


@pytest.mark.parametrize(
    ("last_seen", "expected"),
    [
        ("2026-04-17T23:33:22+08:00", datetime(2026, 4, 17, 23, 33, 22, tzinfo=timezone(timedelta(hours=8)))),
        (1776440002000, datetime(2026, 4, 17, 15, 33, 22, tzinfo=UTC)),
    ],
)
def test_last_seen_is_when_it_happened(last_seen: JsonValue, expected: datetime) -> None:
    (press,) = parsed(parse({"action": "single", "last_seen": last_seen})).events
    assert press.occurred_at == expected


@pytest.mark.parametrize(
    ("payload", "event_type"),
    [
        (b'{"state":"online"}', EventType.ONLINE),
        (b'{"state":"offline"}', EventType.OFFLINE),
        (b"online", EventType.ONLINE),
        (b"offline", EventType.OFFLINE),
    ],
)
def test_availability_in_2x_json_and_1x_plain_text(payload: bytes, event_type: EventType) -> None:
    assert parsed(parse(payload, suffix="/availability")).events == (DeviceEvent(event_type),)


@pytest.mark.parametrize("payload", [b"maybe", b'{"state":true}', b'{"status":"online"}', b"[]"])
def test_unreadable_availability_is_invalid(payload: bytes) -> None:
    result = parse(payload, suffix="/availability")
    assert isinstance(result, Rejection) and result.reason is RejectReason.INVALID


@pytest.mark.parametrize("body", [{"action": 5}, {"action": ["single"]}, {"sos": "true"}, {"sos": 1}, ["single"]])
def test_wrong_types_are_invalid(body: JsonValue) -> None:
    result = parse(body)
    assert isinstance(result, Rejection) and result.reason is RejectReason.INVALID


@pytest.mark.parametrize(
    "topic",
    [
        "zigbee2mqtt/bridge/state",
        "zigbee2mqtt/bridge/devices",
        "zigbee2mqtt/hall/set",
        "zigbee2mqtt/hall/get",
        "zigbee2mqtt/hall/set/brightness",
        "zigbee2mqtt",
        "zigbee2mqtt//availability",
    ],
)
def test_bridge_and_command_topics_are_not_devices(topic: str) -> None:
    assert refused_topic(ADAPTER, BUTTON, topic, b'{"state":"online"}') == (
        RejectReason.UNKNOWN_TOPIC,
        RejectReason.UNKNOWN_TOPIC,
    )


def test_friendly_names_may_contain_slashes() -> None:
    sent = message("zigbee2mqtt/bedroom/dimmer/availability", b"online", retained=True)
    assert ADAPTER.locate(sent) == "zigbee2mqtt/bedroom/dimmer"

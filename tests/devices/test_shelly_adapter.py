"""Shelly Gen1: presses told apart from repeats by event_cnt, battery and availability."""

from __future__ import annotations

import pytest

from devices.base import (
    AdapterState,
    DeviceEvent,
    DeviceProfile,
    EventType,
    JsonValue,
    Parsed,
    ParseResult,
    Rejection,
    RejectReason,
)
from devices.shelly import ADAPTER
from tests.devices.kit import parse_with, parsed, refused_topic

BUTTON = DeviceProfile("button1", "button", "shellies/shellybutton1-A4CF12F45A2B")


def parse(suffix: str, body: JsonValue | bytes, state: AdapterState | None = None) -> ParseResult:
    return parse_with(ADAPTER, BUTTON, f"{BUTTON.topic}/{suffix}", body, state)


def test_new_press_is_remembered_by_its_count() -> None:
    result = parsed(parse("input_event/0", {"event": "S", "event_cnt": 7}))
    assert result.events == (DeviceEvent(EventType.PRESS, action="single"),)
    assert result.state == {"event_cnt": {"0": 7}}


def test_repeated_count_raises_nothing_and_keeps_the_state() -> None:
    state: AdapterState = {"event_cnt": {"0": 7}}
    result = parsed(parse("input_event/0", {"event": "S", "event_cnt": 7}, state))
    assert result == Parsed((), state)


def test_each_input_counts_on_its_own() -> None:
    state: AdapterState = {"event_cnt": {"0": 7}}
    result = parsed(parse("input_event/1", {"event": "S", "event_cnt": 7}, state))
    assert [event.type for event in result.events] == [EventType.PRESS]
    assert result.state == {"event_cnt": {"0": 7, "1": 7}}


def test_a_count_that_went_down_after_a_reboot_is_a_new_press() -> None:
    result = parsed(parse("input_event/0", {"event": "S", "event_cnt": 1}, {"event_cnt": {"0": 7}}))
    assert [event.type for event in result.events] == [EventType.PRESS]


def test_presses_carry_no_event_id_that_a_reboot_could_repeat() -> None:
    """``input0:1`` before a reboot and after it would be one id for two presses, and the
    monitor drops an id it has seen: the kept count tells repeats apart instead."""
    state: AdapterState = {}
    ids = []
    for count in (1, 2, 1):  # the device rebooted after its second press
        result = parsed(parse("input_event/0", {"event": "S", "event_cnt": count}, state))
        state = result.state
        ids += [event.event_id for event in result.events]
    assert ids == [None, None, None]


def test_no_event_since_boot_is_no_press_but_is_remembered() -> None:
    result = parsed(parse("input_event/0", {"event": "", "event_cnt": 0}))
    assert result == Parsed((), {"event_cnt": {"0": 0}})


@pytest.mark.parametrize(
    ("code", "action"),
    [("S", "single"), ("SS", "double"), ("SSS", "triple"), ("L", "long"), ("LS", "long_short"), ("X9", "X9")],
)
def test_event_codes_become_readable_actions(code: str, action: str) -> None:
    (press,) = parsed(parse("input_event/0", {"event": code, "event_cnt": 3})).events
    assert press.action == action


def test_a_garbled_count_state_is_forgotten_not_fatal() -> None:
    result = parsed(parse("input_event/0", {"event": "S", "event_cnt": 7}, {"event_cnt": [7], "other": 1}))
    assert len(result.events) == 1
    assert result.state == {"event_cnt": {"0": 7}, "other": 1}


@pytest.mark.parametrize(
    "body",
    [
        {"event": "S", "event_cnt": "7"},
        {"event": "S", "event_cnt": -1},
        {"event": "S", "event_cnt": True},
        {"event": "S"},
        {"event": 1, "event_cnt": 7},
        ["S", 7],
    ],
)
def test_wrong_types_are_invalid(body: JsonValue) -> None:
    result = parse("input_event/0", body)
    assert isinstance(result, Rejection) and result.reason is RejectReason.INVALID


def test_battery_is_a_plain_percentage() -> None:
    assert parsed(parse("sensor/battery", b"84")).events == (DeviceEvent(EventType.BATTERY, battery=84),)


@pytest.mark.parametrize("payload", [b"full", b"150", b"-3", b"NaN", b"1e400"])
def test_unreadable_battery_is_invalid(payload: bytes) -> None:
    result = parse("sensor/battery", payload)
    assert isinstance(result, Rejection) and result.reason is RejectReason.INVALID


@pytest.mark.parametrize(("payload", "event_type"), [(b"true", EventType.ONLINE), (b"false", EventType.OFFLINE)])
def test_online_flag(payload: bytes, event_type: EventType) -> None:
    assert parsed(parse("online", payload)).events == (DeviceEvent(event_type),)


def test_unreadable_online_flag_is_invalid() -> None:
    result = parse("online", b"1")
    assert isinstance(result, Rejection) and result.reason is RejectReason.INVALID


@pytest.mark.parametrize(
    "topic", ["shellies/announce", "shellies/button1/input_event/x", "shellies/button1/relay/0", "/online"]
)
def test_topics_that_are_not_a_device_are_unknown(topic: str) -> None:
    assert refused_topic(ADAPTER, BUTTON, topic, b"true") == (RejectReason.UNKNOWN_TOPIC,) * 2

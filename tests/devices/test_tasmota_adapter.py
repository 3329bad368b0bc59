"""Tasmota: button presses in all their shapes, Last Will and telemetry."""

from __future__ import annotations

import pytest

from devices.base import (
    DeviceEvent,
    DeviceProfile,
    EventType,
    ParseResult,
    Rejection,
    RejectReason,
)
from devices.tasmota import ADAPTER
from tests.devices.kit import events, message, parse_with, refused_topic

BEDSIDE = DeviceProfile("bedside", "button", "bedside")


def parse(topic: str, payload: bytes) -> ParseResult:
    return parse_with(ADAPTER, BEDSIDE, topic, payload)


@pytest.mark.parametrize(
    ("topic", "payload", "action", "button"),
    [
        ("stat/bedside/RESULT", b'{"Button1":{"Action":"SINGLE"}}', "SINGLE", "1"),
        ("stat/bedside/BUTTON2", b'{"Button2":{"Action":"DOUBLE"}}', "DOUBLE", "2"),
        ("stat/bedside/BUTTON1", b'{"ACTION":"SINGLE"}', "SINGLE", "1"),
        ("stat/bedside/RESULT", b'{"BUTTON3":{"ACTION":"HOLD"}}', "HOLD", "3"),
    ],
)
def test_button_actions_are_presses(topic: str, payload: bytes, action: str, button: str) -> None:
    assert events(parse(topic, payload)) == (DeviceEvent(EventType.PRESS, action=action, detail=f"button {button}"),)


def test_clear_after_a_hold_is_not_a_press() -> None:
    assert events(parse("stat/bedside/RESULT", b'{"Button1":{"Action":"CLEAR"}}')) == ()


@pytest.mark.parametrize(
    ("topic", "payload"), [("stat/bedside/RESULT", b'{"POWER":"ON"}'), ("stat/bedside/POWER", b"ON")]
)
def test_other_stat_messages_carry_nothing(topic: str, payload: bytes) -> None:
    assert events(parse(topic, payload)) == ()


@pytest.mark.parametrize(
    "payload", [b'{"Button1":"SINGLE"}', b'{"Button1":{"Action":5}}', b'{"Button1":{}}', b'["Button1"]']
)
def test_wrong_button_shapes_are_invalid(payload: bytes) -> None:
    result = parse("stat/bedside/RESULT", payload)
    assert isinstance(result, Rejection) and result.reason is RejectReason.INVALID


def test_button_topic_without_an_action_is_invalid() -> None:
    result = parse("stat/bedside/BUTTON1", b'{"Something":"else"}')
    assert isinstance(result, Rejection) and result.reason is RejectReason.INVALID


@pytest.mark.parametrize(("payload", "event_type"), [(b"Online", EventType.ONLINE), (b"Offline", EventType.OFFLINE)])
def test_last_will(payload: bytes, event_type: EventType) -> None:
    assert events(parse("tele/bedside/LWT", payload)) == (DeviceEvent(event_type),)


@pytest.mark.parametrize(("payload", "reason"), [(b"Sleeping", RejectReason.INVALID), (b"\xff", RejectReason.NOT_UTF8)])
def test_unreadable_last_will_is_rejected(payload: bytes, reason: RejectReason) -> None:
    result = parse("tele/bedside/LWT", payload)
    assert isinstance(result, Rejection) and result.reason is reason


def test_telemetry_is_a_heartbeat_with_the_wifi_signal() -> None:
    payload = b'{"Time":"2026-05-02T16:15:30","UptimeSec":7860,"Wifi":{"RSSI":70,"Signal":-65}}'
    assert events(parse("tele/bedside/STATE", payload)) == (DeviceEvent(EventType.HEARTBEAT, signal=-65),)
    assert events(parse("tele/bedside/STATE", b'{"Wifi":{"Signal":"strong"}}')) == (DeviceEvent(EventType.HEARTBEAT),)


@pytest.mark.parametrize(
    "topic", ["cmnd/bedside/POWER", "tele/bedside/SENSOR", "stat/bedside", "bedside", "stat//RESULT", "a/stat/b/RESULT"]
)
def test_topics_outside_the_subscriptions_are_unknown(topic: str) -> None:
    assert refused_topic(ADAPTER, BEDSIDE, topic, b"{}") == (RejectReason.UNKNOWN_TOPIC,) * 2


def test_locate_gives_the_device_topic() -> None:
    sent = message("tele/bedside/LWT", b"Online", retained=True)
    assert ADAPTER.locate(sent) == ADAPTER.device_ref(BEDSIDE) == "bedside"

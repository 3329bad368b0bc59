"""Shelly Gen2+: JSON-RPC notifications and the online flag."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devices.base import (
    DeviceEvent,
    DeviceProfile,
    EventType,
    JsonObject,
    JsonValue,
    ParseResult,
    Rejection,
    RejectReason,
)
from devices.shelly_gen2 import ADAPTER
from tests.devices.kit import events, message, parse_with

PLUS_I4 = DeviceProfile("plus-i4", "button", "shellyplusi4-a8032ab12345")
TS = 1777709730.51


def parse(body: object, *, suffix: str = "/events/rpc") -> ParseResult:
    return parse_with(ADAPTER, PLUS_I4, PLUS_I4.topic + suffix, body)


def notify_event(*names: str) -> JsonObject:
    entries: list[JsonValue] = [{"component": "input:0", "id": 0, "event": name, "ts": TS} for name in names]
    return {"src": PLUS_I4.topic, "method": "NotifyEvent", "params": {"ts": TS, "events": entries}}


def test_push_is_a_press_named_as_sent_with_an_idempotent_id() -> None:
    assert events(parse(notify_event("single_push"))) == (
        DeviceEvent(
            EventType.PRESS,
            event_id=f"input:0:single_push:{TS:.3f}",
            occurred_at=datetime.fromtimestamp(TS, tz=UTC),
            action="single_push",
            detail="input:0",
        ),
    )


def test_a_clock_not_yet_set_after_a_reboot_gives_no_id() -> None:
    """Seconds since boot would repeat after the next reboot and hide a later press."""
    body = notify_event("single_push")
    body["params"] = {"ts": 12.5, "events": [{"component": "input:0", "event": "single_push", "ts": 12.5}]}
    (press,) = events(parse(body))
    assert (press.type, press.event_id) == (EventType.PRESS, None)


def test_button_edges_are_not_presses() -> None:
    assert [event.action for event in events(parse(notify_event("btn_down", "btn_up", "long_push")))] == ["long_push"]


def test_status_with_battery_is_a_battery_report_with_wifi_signal() -> None:
    params = {"ts": TS, "devicepower:0": {"id": 0, "battery": {"V": 5.8, "percent": 76}}, "wifi": {"rssi": -61}}
    (report,) = events(parse({"method": "NotifyFullStatus", "params": params}))
    assert (report.type, report.battery, report.signal) == (EventType.BATTERY, 76, -61)


def test_status_without_battery_is_a_heartbeat() -> None:
    (report,) = events(parse({"method": "NotifyStatus", "params": {"ts": TS, "input:0": {"id": 0, "state": True}}}))
    assert (report.type, report.battery) == (EventType.HEARTBEAT, None)


def test_other_methods_are_unsupported() -> None:
    result = parse({"method": "Shelly.Reboot", "params": {}})
    assert isinstance(result, Rejection) and result.reason is RejectReason.UNSUPPORTED


@pytest.mark.parametrize(
    "body",
    [
        {"id": 1, "result": {}},
        {"method": "NotifyEvent", "params": []},
        {"method": "NotifyEvent", "params": {"events": {"event": "single_push"}}},
        {"method": "NotifyEvent", "params": {"events": ["single_push"]}},
        {"method": "NotifyEvent", "params": {"events": [{"event": 1}]}},
    ],
)
def test_wrong_shapes_are_invalid(body: JsonValue) -> None:
    result = parse(body)
    assert isinstance(result, Rejection) and result.reason is RejectReason.INVALID


@pytest.mark.parametrize(("payload", "event_type"), [(b"true", EventType.ONLINE), (b"false", EventType.OFFLINE)])
def test_online_flag(payload: bytes, event_type: EventType) -> None:
    assert events(parse(payload, suffix="/online")) == (DeviceEvent(event_type),)


def test_locate_strips_the_subtopic_and_refuses_others() -> None:
    for suffix in ("/events/rpc", "/online"):
        assert ADAPTER.locate(message(PLUS_I4.topic + suffix, b"true")) == ADAPTER.device_ref(PLUS_I4)
    located = ADAPTER.locate(message(f"{PLUS_I4.topic}/rpc", b"{}"))
    assert isinstance(located, Rejection) and located.reason is RejectReason.UNKNOWN_TOPIC

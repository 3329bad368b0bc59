"""Traccar's event forwarder: alarms, status, geofences and positions of GPS watches."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from devices.base import (
    DeviceEvent,
    DeviceProfile,
    EventType,
    JsonObject,
    JsonValue,
    ParseResult,
    Position,
    Rejection,
    RejectReason,
)
from devices.traccar import ADAPTER
from tests.devices.kit import WATCH_SERIAL, events, message, parse_with, reason_of

WATCH = DeviceProfile("grandma-watch", "gps_phone", "events", serial=WATCH_SERIAL)
EVENT_TIME = "2026-05-02T08:15:30.000+00:00"
FIX_TIME = "2026-05-02T08:15:28.000+00:00"
DEVICE: JsonObject = {"id": 10, "name": "Grandma watch", "uniqueId": WATCH_SERIAL, "status": "online"}


def position(**overrides: JsonValue) -> JsonObject:
    fields: JsonObject = {
        "id": 123,
        "latitude": 30.2741,
        "longitude": 120.1551,
        "speed": 0.0,
        "accuracy": 12.0,
        "fixTime": FIX_TIME,
        "attributes": {"batteryLevel": 80, "rssi": 4},
    }
    return fields | overrides


def alarm(value: JsonValue, **extra: JsonValue) -> JsonObject:
    event: JsonObject = {"id": 501, "type": "alarm", "eventTime": EVENT_TIME, "attributes": {"alarm": value}}
    return {"event": event, "position": position(), "device": DEVICE} | extra


def parse(body: object) -> ParseResult:
    return parse_with(ADAPTER, WATCH, "events", body)


def test_sos_carries_position_battery_and_signal_in_one_event() -> None:
    fixed_at = datetime(2026, 5, 2, 8, 15, 28, tzinfo=UTC)
    assert events(parse(alarm("sos"))) == (
        DeviceEvent(
            EventType.SOS,
            event_id="501:sos",
            occurred_at=datetime(2026, 5, 2, 8, 15, 30, tzinfo=UTC),
            battery=80,
            signal=4,
            position=Position(30.2741, 120.1551, accuracy_m=12.0, fixed_at=fixed_at, speed_kmh=0.0),
        ),
    )


def test_speed_in_knots_becomes_kmh() -> None:
    (sos,) = events(parse(alarm("sos", position=position(speed=10.0))))
    assert sos.position is not None and sos.position.speed_kmh == pytest.approx(18.52)


def test_accuracy_zero_means_not_reported() -> None:
    (sos,) = events(parse(alarm("sos", position=position(accuracy=0.0))))
    assert sos.position is not None and sos.position.accuracy_m is None


def test_comma_separated_alarms_give_one_event_each_with_distinct_ids() -> None:
    sos, low = events(parse(alarm("sos,lowBattery")))
    assert (sos.type, sos.event_id) == (EventType.SOS, "501:sos")
    assert (low.type, low.event_id) == (EventType.LOW_BATTERY, "501:lowBattery")


def test_unknown_alarms_are_skipped_and_alone_unsupported() -> None:
    assert [event.type for event in events(parse(alarm("vibration, sos")))] == [EventType.SOS]
    assert reason_of(parse(alarm("vibration,tampering"))) is RejectReason.UNSUPPORTED


def test_alarms_of_the_same_kind_give_one_event_named_after_the_first() -> None:
    (low,) = events(parse(alarm("lowBattery,lowPower")))
    assert (low.type, low.event_id) == (EventType.LOW_BATTERY, "501:lowBattery")


@pytest.mark.parametrize(
    ("value", "event_type", "detail"),
    [
        ("fallDown", EventType.FALL, None),
        ("lowBattery", EventType.LOW_BATTERY, None),
        ("powerCut", EventType.HEARTBEAT, "external power cut, running on battery"),
        ("powerRestored", EventType.HEARTBEAT, "external power restored"),
    ],
)
def test_alarm_types(value: str, event_type: EventType, detail: str | None) -> None:
    (event,) = events(parse(alarm(value)))
    assert (event.type, event.detail) == (event_type, detail)


def test_alarm_only_in_the_position_attributes_still_counts() -> None:
    body = alarm(None, position=position(attributes={"alarm": "sos"}))
    assert [event.type for event in events(parse(body))] == [EventType.SOS]


@pytest.mark.parametrize(
    ("event_type", "expected"), [("deviceOnline", EventType.ONLINE), ("deviceOffline", EventType.OFFLINE)]
)
def test_device_status(event_type: str, expected: EventType) -> None:
    body = {"event": {"id": 502, "type": event_type, "eventTime": EVENT_TIME, "attributes": {}}, "device": DEVICE}
    assert events(parse(body)) == (
        DeviceEvent(expected, event_id="502", occurred_at=datetime(2026, 5, 2, 8, 15, 30, tzinfo=UTC)),
    )


def test_geofence_exit_names_the_region() -> None:
    body = {
        "event": {"id": 503, "type": "geofenceExit", "eventTime": EVENT_TIME, "geofenceId": 3},
        "position": position(),
        "geofence": {"id": 3, "name": "Home"},
        "device": DEVICE,
    }
    (geofence,) = events(parse(body))
    assert (geofence.type, geofence.region, geofence.transition) == (EventType.GEOFENCE, "Home", "leave")


def test_other_event_types_are_unsupported() -> None:
    body = {"event": {"id": 504, "type": "ignitionOn"}, "position": position(), "device": DEVICE}
    assert reason_of(parse(body)) is RejectReason.UNSUPPORTED


def test_position_without_event_is_a_location() -> None:
    (location,) = events(parse({"position": position(), "device": DEVICE}))
    assert location.type is EventType.LOCATION and location.position is not None
    assert location.occurred_at == location.position.fixed_at


@pytest.mark.parametrize(
    "body",
    [
        {"event": [], "device": DEVICE},
        {"event": {"id": {"n": 1}, "type": "alarm"}, "device": DEVICE},
        {"event": {"id": 1, "type": 7}, "device": DEVICE},
        {"event": {"id": 1, "type": "alarm", "attributes": {"alarm": 3}}, "device": DEVICE},
        {"event": {"id": 1, "type": "alarm"}, "position": "here", "device": DEVICE},
        {"position": position(latitude="north"), "device": DEVICE},
        {"device": DEVICE},
    ],
)
def test_wrong_types_are_invalid(body: JsonValue) -> None:
    assert reason_of(parse(body)) is RejectReason.INVALID


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (json.dumps({"device": {"uniqueId": WATCH_SERIAL}}).encode(), WATCH_SERIAL),
        (b'{"device":{"uniqueId":868003031234567}}', WATCH_SERIAL),
        (b'{"device":{"id":10}}', Rejection(RejectReason.INVALID, "no device.uniqueId")),
        (b'{"device":[]}', Rejection(RejectReason.INVALID, "no device.uniqueId")),
    ],
)
def test_locate_reads_the_unique_id_from_the_payload(payload: bytes, expected: str | Rejection) -> None:
    assert ADAPTER.locate(message("events", payload)) == expected


def test_locate_rejects_what_is_not_json() -> None:
    assert reason_of(ADAPTER.locate(message("events", b"sos!"))) is RejectReason.MALFORMED


def test_device_ref_is_the_serial_or_else_the_device_id() -> None:
    assert ADAPTER.device_ref(WATCH) == WATCH_SERIAL
    assert ADAPTER.device_ref(DeviceProfile("watch-2", "gps_phone", "events")) == "watch-2"

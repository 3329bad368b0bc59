"""OwnTracks: what a phone's messages become."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from devices.base import (
    AdapterState,
    DeviceEvent,
    DeviceProfile,
    EventType,
    JsonObject,
    JsonValue,
    Parsed,
    ParseResult,
    Position,
    Rejection,
    RejectReason,
)
from devices.owntracks import ADAPTER
from devices.press_meanings import resolve_presses
from tests.devices.kit import events, message, parse_with

PHONE = DeviceProfile("phone-01", "gps_phone", "owntracks/callwatch/phone-01")
TST = 1777709730
LOCATION: JsonObject = {
    "_type": "location",
    "acc": 12,
    "batt": 41,
    "lat": 30.27412,
    "lon": 120.15507,
    "tst": TST,
    "vel": 5,
}


def parse(body: object, *, topic: str = PHONE.topic, state: AdapterState | None = None) -> ParseResult:
    return parse_with(ADAPTER, PHONE, topic, body, state)


def test_location_carries_the_fix_accuracy_speed_and_battery() -> None:
    fixed_at = datetime.fromtimestamp(TST, tz=UTC)
    assert events(parse(LOCATION)) == (
        DeviceEvent(
            EventType.LOCATION,
            occurred_at=fixed_at,
            battery=41,
            position=Position(30.27412, 120.15507, accuracy_m=12, fixed_at=fixed_at, speed_kmh=5),
        ),
    )


def test_battery_minus_one_means_unknown() -> None:
    (location,) = events(parse({**LOCATION, "batt": -1}))
    assert location.battery is None


def test_manual_publish_is_a_press_placed_before_the_location() -> None:
    press, location = events(parse({**LOCATION, "t": "u"}))
    assert (press.type, press.action, press.event_id) == (EventType.PRESS, "manual", f"manual:{TST}")
    assert press.position == location.position
    assert location.type is EventType.LOCATION


def test_manual_publish_means_nothing_on_a_phone_unless_its_action_map_says_sos() -> None:
    parsed = events(parse({**LOCATION, "t": "u"}))
    assert [event.type for event in resolve_presses(parsed, PHONE)] == [EventType.LOCATION]
    mapped = replace(PHONE, action_map={"manual": "sos"})
    assert [event.type for event in resolve_presses(parsed, mapped)] == [EventType.SOS, EventType.LOCATION]


def test_automatic_locations_are_not_presses() -> None:
    assert [event.type for event in events(parse({**LOCATION, "t": "p"}))] == [EventType.LOCATION]


@pytest.mark.parametrize("topic", [f"{PHONE.topic}/event", PHONE.topic])
def test_transition_is_a_geofence_event(topic: str) -> None:
    body = {"_type": "transition", "event": "leave", "desc": "home", "rid": "a1b2", "acc": 30, "tst": TST}
    body |= {"lat": 30.2, "lon": 120.1, "wtst": 1700000000, "t": "c"}
    (geofence,) = events(parse(body, topic=topic))
    assert (geofence.type, geofence.region, geofence.transition) == (EventType.GEOFENCE, "home", "leave")
    assert geofence.event_id == f"transition:{TST}:leave:a1b2"
    assert geofence.position is not None and geofence.position.accuracy_m == 30


def test_transition_other_than_enter_or_leave_is_invalid() -> None:
    result = parse({"_type": "transition", "event": "dwell", "desc": "home", "tst": TST})
    assert isinstance(result, Rejection) and result.reason is RejectReason.INVALID


def test_last_will_is_offline() -> None:
    assert events(parse({"_type": "lwt", "tst": 1380738247})) == (DeviceEvent(EventType.OFFLINE),)


@pytest.mark.parametrize("message_type", ["waypoint", "waypoints", "card", "status", "steps"])
def test_other_known_types_carry_nothing(message_type: str) -> None:
    state: AdapterState = {"kept": 1}
    assert parse({"_type": message_type, "tst": TST}, state=state) == Parsed((), state)


@pytest.mark.parametrize("message_type", ["encrypted", "teleport"])
def test_encrypted_and_unknown_types_are_unsupported(message_type: str) -> None:
    result = parse({"_type": message_type, "data": "xyz"})
    assert isinstance(result, Rejection) and result.reason is RejectReason.UNSUPPORTED


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({**LOCATION, "lat": "north"}, RejectReason.INVALID),
        ({**LOCATION, "lat": 91}, RejectReason.INVALID),
        ({**LOCATION, "_type": ["location"]}, RejectReason.INVALID),
        ({"lat": 1, "lon": 2}, RejectReason.INVALID),
        ([LOCATION], RejectReason.INVALID),
        (b"{not json", RejectReason.MALFORMED),
        (b"\xff\xfe", RejectReason.NOT_UTF8),
    ],
)
def test_unreadable_messages_are_rejected_with_a_reason(payload: JsonValue | bytes, reason: RejectReason) -> None:
    result = parse(payload)
    assert isinstance(result, Rejection) and result.reason is reason


def test_empty_payload_is_a_cleared_retained_message() -> None:
    state: AdapterState = {"kept": 1}
    assert parse(b"", state=state) == Parsed((), state)


def test_locate_gives_the_base_topic_for_both_topics() -> None:
    for topic in (PHONE.topic, f"{PHONE.topic}/event"):
        assert ADAPTER.locate(message(topic, b"{}")) == ADAPTER.device_ref(PHONE)
    assert ADAPTER.topic_filters(PHONE) == ("owntracks/callwatch/+", "owntracks/callwatch/+/event")

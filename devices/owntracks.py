"""OwnTracks, the phone app (https://owntracks.org/booklet/tech/json/).

The app publishes JSON to its base topic (``owntracks/<user>/<device>``; callwatch's default
is ``owntracks/callwatch/<device_id>``) and region transitions to ``<topic>/event``:

- ``_type: location`` -> LOCATION: ``tst`` is the fix time, ``acc`` metres, ``vel`` km/h,
  ``batt`` percent (-1 means unknown). ``t: "u"`` marks a location the user published by
  hand: it is also a PRESS with action ``manual``, placed first, so that a device's action
  map can make it an SOS (a gps_phone maps it to nothing by default). event_id
  ``manual:<tst>``.
- ``_type: transition`` (on ``<topic>/event`` or the base topic) -> GEOFENCE with
  region = ``desc``, transition = ``event`` (``enter`` / ``leave``); event_id
  ``transition:<tst>:<event>:<rid or desc>``, as one fix may leave one region and enter another.
- ``_type: lwt`` -> OFFLINE. The app announces no "online": its next location is the sign.
  The lwt's ``tst`` is when the app connected, not when it dropped, so it is not used.
- waypoint(s), card, cmd, status, steps, beacon, configuration and request messages are
  understood and carry nothing to act on: no events. ``encrypted`` payloads cannot be read
  without the app's key, and other ``_type`` values are unknown: both UNSUPPORTED.

Locations are published retained; the monitor treats retained messages as state. An empty
payload (how OwnTracks clears a retained message) yields no events. No adapter state.
"""

from __future__ import annotations

from datetime import datetime

from devices.base import (
    AdapterState,
    DeviceEvent,
    DeviceMessage,
    DeviceProfile,
    EventType,
    FamilyDefaults,
    JsonObject,
    JsonValue,
    Parsed,
    ParseResult,
    Rejection,
    RejectReason,
    as_non_negative,
    as_percent,
    as_position,
    decode_json_object,
    parse_timestamp,
    sibling_filters,
)

EVENT_SUFFIX = "/event"
MANUAL_TRIGGER = "u"
MANUAL_ACTION = "manual"
TRANSITIONS = frozenset({"enter", "leave"})
MAX_REGION_LENGTH = 64
SILENT_TYPES = frozenset(
    {"waypoint", "waypoints", "card", "cmd", "status", "steps", "beacon", "configuration", "request"}
)


class OwnTracksAdapter(FamilyDefaults):
    protocol = "owntracks"
    #: Android's ping location comes every 15 minutes, iOS is quieter when the phone lies still
    default_heartbeat_s = 3600

    def default_topic(self, device_id: str) -> str:
        return f"owntracks/callwatch/{device_id}"

    def topic_filters(self, device: DeviceProfile) -> tuple[str, ...]:
        return sibling_filters(device.topic, "", EVENT_SUFFIX)

    def locate(self, message: DeviceMessage) -> str | Rejection:
        topic = message.topic
        if topic.endswith(EVENT_SUFFIX):
            topic = topic[: -len(EVENT_SUFFIX)]
        if not topic:
            return Rejection(RejectReason.UNKNOWN_TOPIC, f"{message.topic!r} names no OwnTracks device")
        return topic

    def parse(self, message: DeviceMessage, device: DeviceProfile, state: AdapterState) -> ParseResult:
        return _parse(message.payload, state)


def _parse(payload: bytes, state: AdapterState) -> ParseResult:
    if not payload:
        return Parsed((), state)
    body = decode_json_object(payload)
    if isinstance(body, Rejection):
        return body
    message_type = body.get("_type")
    if not isinstance(message_type, str):
        return Rejection(RejectReason.INVALID, "missing or non-string '_type'")
    match message_type:
        case "location":
            events = _location(body)
        case "transition":
            events = _transition(body)
        case "lwt":
            events = (DeviceEvent(EventType.OFFLINE),)
        case "encrypted":
            return Rejection(RejectReason.UNSUPPORTED, "encrypted payload: turn encryption off for callwatch")
        case _ if message_type in SILENT_TYPES:
            events = ()
        case _:
            return Rejection(RejectReason.UNSUPPORTED, f"unknown _type {message_type[:40]!r}")
    if isinstance(events, Rejection):
        return events
    return Parsed(events, state)


def _location(body: JsonObject) -> tuple[DeviceEvent, ...] | Rejection:
    fixed_at = parse_timestamp(body.get("tst"))
    position = as_position(
        body.get("lat"),
        body.get("lon"),
        accuracy_m=as_non_negative(body.get("acc")),
        fixed_at=fixed_at,
        speed_kmh=as_non_negative(body.get("vel")),
    )
    if position is None:
        return Rejection(RejectReason.INVALID, "location without a valid lat/lon")
    battery = as_percent(body.get("batt"))
    location = DeviceEvent(EventType.LOCATION, occurred_at=fixed_at, battery=battery, position=position)
    if body.get("t") != MANUAL_TRIGGER:
        return (location,)
    press = DeviceEvent(
        EventType.PRESS,
        event_id=f"manual:{_epoch(fixed_at)}" if fixed_at else None,
        occurred_at=fixed_at,
        battery=battery,
        position=position,
        action=MANUAL_ACTION,
    )
    return (press, location)


def _transition(body: JsonObject) -> tuple[DeviceEvent, ...] | Rejection:
    transition = body.get("event")
    if not isinstance(transition, str) or transition not in TRANSITIONS:
        return Rejection(RejectReason.INVALID, "transition 'event' must be 'enter' or 'leave'")
    region = _text(body.get("desc"))
    region_key = _text(body.get("rid")) or region or ""
    occurred_at = parse_timestamp(body.get("tst"))
    position = as_position(
        body.get("lat"), body.get("lon"), accuracy_m=as_non_negative(body.get("acc")), fixed_at=occurred_at
    )
    event_id = f"transition:{_epoch(occurred_at)}:{transition}:{region_key}" if occurred_at else None
    return (
        DeviceEvent(
            EventType.GEOFENCE,
            event_id=event_id,
            occurred_at=occurred_at,
            position=position,
            region=region,
            transition=transition,
        ),
    )


def _text(raw: JsonValue) -> str | None:
    """A short non-empty string field, or None."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    return raw.strip()[:MAX_REGION_LENGTH]


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


ADAPTER = OwnTracksAdapter()

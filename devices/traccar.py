"""Traccar's MQTT event forwarder, for GPS watches and pendants (https://www.traccar.org/forward/).

Traccar publishes every device on one topic (``events`` by default; the directory's
``topic``) as ``{"event": {...}, "position": {...}, "device": {...}, "geofence": {...}}``.
The device is ``device.uniqueId`` (usually the IMEI), matched against the directory's
``serial``, or its id when it has no serial.

- ``alarm`` -> one event per known value of the comma-separated ``alarm`` attribute (event
  attributes, else position attributes): ``sos`` -> SOS, ``fallDown`` -> FALL,
  ``lowBattery`` / ``lowPower`` -> LOW_BATTERY, ``powerCut`` / ``powerRestored`` -> HEARTBEAT
  with a detail: a watch taken off its charger, or a base station losing mains power, is
  worth a line on the timeline but is no alert (a battery running down afterwards reports
  lowBattery). Unknown values are ignored; an alarm with no known value is UNSUPPORTED.
- ``deviceOnline`` / ``deviceOffline`` -> ONLINE / OFFLINE; ``geofenceEnter`` /
  ``geofenceExit`` -> GEOFENCE (region = the geofence's name, transition enter / leave).
  Other event types (deviceUnknown, deviceMoving, ignitionOn...) -> UNSUPPORTED.
- A position without an event (Traccar's position forwarder) -> LOCATION.

Every event carries the message's position (speed converted from knots to km/h), battery
(``batteryLevel``) and signal (``rssi``, as the protocol reports it): no separate LOCATION.
event_id is Traccar's event id, ``<id>:<alarm>`` for alarms so that the alarms of one
message stay distinct: a sequence of Traccar's own database, which a watch rebooting does
not restart. No adapter state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

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
    Position,
    Rejection,
    RejectReason,
    as_float,
    as_int,
    as_non_negative,
    as_percent,
    as_position,
    decode_json_object,
    parse_timestamp,
)

KMH_PER_KNOT = 1.852
MAX_ID_LENGTH = 128
MAX_REGION_LENGTH = 64
MAX_SIGNAL = 255
#: Traccar alarm name (lower case) -> the event it is and a note for the timeline
ALARMS: Mapping[str, tuple[EventType, str | None]] = {
    "sos": (EventType.SOS, None),
    "falldown": (EventType.FALL, None),
    "lowbattery": (EventType.LOW_BATTERY, None),
    "lowpower": (EventType.LOW_BATTERY, "low power"),
    "powercut": (EventType.HEARTBEAT, "external power cut, running on battery"),
    "powerrestored": (EventType.HEARTBEAT, "external power restored"),
}
STATUS_EVENTS: Mapping[str, EventType] = {
    "deviceOnline": EventType.ONLINE,
    "deviceOffline": EventType.OFFLINE,
}
GEOFENCE_EVENTS: Mapping[str, str] = {"geofenceEnter": "enter", "geofenceExit": "leave"}


class TraccarAdapter(FamilyDefaults):
    protocol = "traccar"
    #: watches report a position every few minutes; Traccar also says deviceOffline itself
    default_heartbeat_s = 1800

    def default_topic(self, device_id: str) -> str:
        return "events"

    def topic_filters(self, device: DeviceProfile) -> tuple[str, ...]:
        return (device.topic,)

    def device_ref(self, device: DeviceProfile) -> str:
        """Every device shares the one topic: the payload names it by ``uniqueId``."""
        return device.serial or device.device_id

    def locate(self, message: DeviceMessage) -> str | Rejection:
        body = decode_json_object(message.payload)
        if isinstance(body, Rejection):
            return body
        device = body.get("device")
        unique_id = device.get("uniqueId") if isinstance(device, dict) else None
        if isinstance(unique_id, int) and not isinstance(unique_id, bool):
            unique_id = str(unique_id)
        if not isinstance(unique_id, str) or not unique_id.strip():
            return Rejection(RejectReason.INVALID, "no device.uniqueId")
        return unique_id.strip()

    def parse(self, message: DeviceMessage, device: DeviceProfile, state: AdapterState) -> ParseResult:
        body = decode_json_object(message.payload)
        if isinstance(body, Rejection):
            return body
        events = _events(body)
        return events if isinstance(events, Rejection) else Parsed(events, state)


def _events(body: JsonObject) -> tuple[DeviceEvent, ...] | Rejection:
    event, position = body.get("event"), body.get("position")
    if event is not None and not isinstance(event, dict):
        return Rejection(RejectReason.INVALID, "'event' must be an object")
    if position is not None and not isinstance(position, dict):
        return Rejection(RejectReason.INVALID, "'position' must be an object")
    position_attributes = _attributes(position)
    fix = _position(position) if position is not None else None
    # what every event of this message carries; as it stands, the LOCATION of a position-only message
    common = DeviceEvent(
        EventType.LOCATION,
        occurred_at=fix.fixed_at if fix else None,
        battery=as_percent(position_attributes.get("batteryLevel")),
        signal=_signal(position_attributes.get("rssi")),
        position=fix,
    )
    if event is None:
        if fix is None:
            return Rejection(RejectReason.INVALID, "neither an event nor a valid position")
        return (common,)
    event_type, event_id = event.get("type"), _event_id(event.get("id"))
    if not isinstance(event_type, str):
        return Rejection(RejectReason.INVALID, "'event.type' must be a string")
    if isinstance(event_id, Rejection):
        return event_id
    occurred_at = parse_timestamp(event.get("eventTime")) or common.occurred_at
    common = replace(common, event_id=event_id, occurred_at=occurred_at)
    if event_type == "alarm":
        alarm = _attributes(event).get("alarm") or position_attributes.get("alarm")
        return _alarms(alarm, common)
    if event_type in STATUS_EVENTS:
        return (replace(common, type=STATUS_EVENTS[event_type]),)
    if event_type in GEOFENCE_EVENTS:
        transition = GEOFENCE_EVENTS[event_type]
        return (replace(common, type=EventType.GEOFENCE, region=_region(body), transition=transition),)
    return Rejection(RejectReason.UNSUPPORTED, f"unhandled event type {event_type[:40]!r}")


def _alarms(alarm: JsonValue, common: DeviceEvent) -> tuple[DeviceEvent, ...] | Rejection:
    """One event per known alarm type in ``"sos,lowBattery"``; unknown alarms are skipped."""
    if not isinstance(alarm, str):
        return Rejection(RejectReason.INVALID, "alarm event without a string 'alarm' attribute")
    events: dict[EventType, DeviceEvent] = {}
    for name in (part.strip() for part in alarm.split(",")):
        known = ALARMS.get(name.lower())
        if known is None or known[0] in events:
            continue
        event_type, detail = known
        event_id = f"{common.event_id}:{name}" if common.event_id else None
        events[event_type] = replace(common, type=event_type, event_id=event_id, detail=detail)
    if not events:
        return Rejection(RejectReason.UNSUPPORTED, f"no handled alarm in {alarm[:40]!r}")
    return tuple(events.values())


def _position(position: JsonObject) -> Position | None:
    accuracy = as_float(position.get("accuracy"))
    knots = as_non_negative(position.get("speed"))
    return as_position(
        position.get("latitude"),
        position.get("longitude"),
        accuracy_m=accuracy if accuracy is not None and accuracy > 0 else None,  # 0 means not reported
        fixed_at=parse_timestamp(position.get("fixTime")),
        speed_kmh=knots * KMH_PER_KNOT if knots is not None else None,
    )


def _attributes(record: JsonValue) -> JsonObject:
    attributes = record.get("attributes") if isinstance(record, dict) else None
    return attributes if isinstance(attributes, dict) else {}


def _region(body: JsonObject) -> str | None:
    geofence = body.get("geofence")
    name = geofence.get("name") if isinstance(geofence, dict) else None
    return name.strip()[:MAX_REGION_LENGTH] if isinstance(name, str) and name.strip() else None


def _event_id(raw: JsonValue) -> str | Rejection | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int) or not str(raw).strip():
        return Rejection(RejectReason.INVALID, "'event.id' must be a number or a string")
    return str(raw).strip()[:MAX_ID_LENGTH]


def _signal(raw: JsonValue) -> int | None:
    return as_int(raw, -MAX_SIGNAL, MAX_SIGNAL)


ADAPTER = TraccarAdapter()

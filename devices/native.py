"""callwatch's own protocol (docs/native-protocol.md).

``<topic>/event`` carries JSON events; ``<topic>/status`` is the retained Last Will,
``online`` / ``offline``. The default topic is ``callwatch/<device_id>``.

An event's ``id`` is its event_id. The monitor drops an id it has seen from that device in
the last week, so a device must not reuse ids across reboots: a counter that restarts at 1
would hide new presses (prefix a boot counter, or use random ids).
"""

from __future__ import annotations

from devices.base import (
    AdapterState,
    DeviceEvent,
    DeviceMessage,
    DeviceProfile,
    EventType,
    FamilyDefaults,
    JsonValue,
    Parsed,
    ParseResult,
    Rejection,
    RejectReason,
    as_non_negative,
    as_percent,
    as_position,
    decode_json_object,
    decode_text,
    parse_timestamp,
    sibling_filters,
    split_suffix,
)

EVENT_SUFFIX = "/event"
STATUS_SUFFIX = "/status"
FEEDBACK_SUFFIX = "/feedback"
MAX_EVENT_ID_LENGTH = 128

NATIVE_TYPES: frozenset[EventType] = frozenset(
    {
        EventType.SOS,
        EventType.FALL,
        EventType.CANCEL,
        EventType.CHECKIN,
        EventType.HEARTBEAT,
        EventType.LOCATION,
        EventType.LOW_BATTERY,
    }
)


class NativeAdapter(FamilyDefaults):
    protocol = "native"
    default_heartbeat_s = 300  # docs/native-protocol.md: a heartbeat every five minutes

    def default_topic(self, device_id: str) -> str:
        return f"callwatch/{device_id}"

    def topic_filters(self, device: DeviceProfile) -> tuple[str, ...]:
        return sibling_filters(device.topic, EVENT_SUFFIX, STATUS_SUFFIX)

    def locate(self, message: DeviceMessage) -> str | Rejection:
        if (split := split_suffix(message.topic, (EVENT_SUFFIX, STATUS_SUFFIX))) is None:
            return Rejection(RejectReason.UNKNOWN_TOPIC, f"{message.topic!r} is not a native event or status topic")
        return split[0]

    def parse(self, message: DeviceMessage, device: DeviceProfile, state: AdapterState) -> ParseResult:
        if message.topic.endswith(STATUS_SUFFIX):
            return _parse_status(message.payload)
        return _parse_event(message)

    def feedback_topic(self, device: DeviceProfile) -> str | None:
        return device.topic + FEEDBACK_SUFFIX


def _parse_status(payload: bytes) -> ParseResult:
    text = decode_text(payload)
    if isinstance(text, Rejection):
        return text
    text = text.lower()
    if text == "online":
        return Parsed((DeviceEvent(EventType.ONLINE),))
    if text == "offline":
        return Parsed((DeviceEvent(EventType.OFFLINE),))
    return Rejection(RejectReason.INVALID, f"status must be online or offline, got {text[:40]!r}")


def _parse_event(message: DeviceMessage) -> ParseResult:
    body = decode_json_object(message.payload)
    if isinstance(body, Rejection):
        return body
    raw_type = body.get("type")
    if not isinstance(raw_type, str):
        return Rejection(RejectReason.INVALID, "missing or non-string 'type'")
    try:
        event_type = EventType(raw_type.strip().lower())
    except ValueError:
        event_type = None
    if event_type not in NATIVE_TYPES:
        return Rejection(RejectReason.UNSUPPORTED, f"unknown event type {raw_type[:40]!r}")
    event_id = _event_id(body.get("id"))
    if isinstance(event_id, Rejection):
        return event_id
    occurred_at = parse_timestamp(body.get("ts"))
    return Parsed(
        (
            DeviceEvent(
                type=event_type,
                event_id=event_id,
                occurred_at=occurred_at,
                battery=as_percent(body.get("battery")),
                position=as_position(
                    body.get("lat"),
                    body.get("lon"),
                    accuracy_m=as_non_negative(body.get("acc")),
                    fixed_at=occurred_at,
                ),
            ),
        )
    )


def _event_id(raw: JsonValue) -> str | Rejection | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        return Rejection(RejectReason.INVALID, "'id' must be a string or an integer")
    text = str(raw).strip()
    if not text or len(text) > MAX_EVENT_ID_LENGTH:
        return Rejection(RejectReason.INVALID, f"'id' must be 1 to {MAX_EVENT_ID_LENGTH} characters")
    return text


ADAPTER = NativeAdapter()

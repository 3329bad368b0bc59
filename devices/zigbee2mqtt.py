"""zigbee2mqtt (https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html).

Each device publishes its whole state as one JSON object to ``zigbee2mqtt/<friendly_name>``
(the directory's ``topic``) and its availability, retained, to ``<topic>/availability``:
2.x JSON ``{"state": "online"}`` or 1.x plain ``online`` / ``offline``.

- A non-empty ``action`` (``single``, ``emergency``, ``1_double``...) -> PRESS with that
  action. The follow-up copy with ``"action": ""`` or null -> no events. Releases
  (``release``, ``on_press_release``...) end a press already reported -> no events.
- ``"sos": true`` (buttons that report an SOS *state*) -> SOS on the false -> true edge
  only. Adapter state: ``{"sos": <last value>}``; no state counts as false.
- Any other state message -> BATTERY when it carries a ``battery`` percent (LOW_BATTERY when
  ``battery_low`` is true), else HEARTBEAT.
- Every event carries ``battery``, signal = ``linkquality`` (0-255) and, as occurred_at,
  ``last_seen`` when the bridge adds it (ISO 8601, or epoch milliseconds).
- ``<base>/bridge/...`` and the ``/set`` / ``/get`` command topics -> UNKNOWN_TOPIC.
  Devices must use zigbee2mqtt's default JSON output, not ``output: attribute``.

An empty payload (a cleared retained message) yields no events.
"""

from __future__ import annotations

from datetime import datetime

from devices.base import (
    AdapterState,
    DeviceEvent,
    DeviceProfile,
    EventType,
    JsonObject,
    JsonValue,
    Parsed,
    ParseResult,
    Rejection,
    RejectReason,
    RoutedFamily,
    as_int,
    as_percent,
    decode_json_object,
    decode_text,
    parse_timestamp,
    sibling_filters,
)

AVAILABILITY_SUFFIX = "/availability"
COMMAND_LEVELS = frozenset({"set", "get"})
BRIDGE_LEVEL = "bridge"
SOS_STATE_KEY = "sos"
RELEASE = "release"
MAX_LINKQUALITY = 255
MAX_ACTION_LENGTH = 64


class Zigbee2MqttAdapter(RoutedFamily[tuple[str, bool]]):
    """Routes are ``(device topic, whether the message is its availability)``."""

    protocol = "zigbee2mqtt"
    #: battery buttons sleep and report a few times a day; zigbee2mqtt's own availability
    #: check gives such passive devices 25 hours
    default_heartbeat_s = 12 * 3600

    def default_topic(self, device_id: str) -> str:
        return f"zigbee2mqtt/{device_id}"

    def topic_filters(self, device: DeviceProfile) -> tuple[str, ...]:
        return sibling_filters(device.topic, "", AVAILABILITY_SUFFIX)

    def route(self, topic: str) -> tuple[str, bool] | Rejection:
        levels = topic.removesuffix(AVAILABILITY_SUFFIX).split("/")
        if BRIDGE_LEVEL in levels[:-1]:
            return Rejection(RejectReason.UNKNOWN_TOPIC, f"{topic!r} is the bridge, not a device")
        if COMMAND_LEVELS.intersection(levels[1:]):
            return Rejection(RejectReason.UNKNOWN_TOPIC, f"{topic!r} is a command to a device")
        if len(levels) < 2 or not all(levels):
            return Rejection(RejectReason.UNKNOWN_TOPIC, f"{topic!r} is not a device topic")
        return "/".join(levels), topic.endswith(AVAILABILITY_SUFFIX)

    def device_of(self, route: tuple[str, bool]) -> str:
        return route[0]

    def read(self, route: tuple[str, bool], payload: bytes, state: AdapterState) -> ParseResult:
        _, availability = route
        return _availability(payload, state) if availability else _device_state(payload, state)


def _availability(payload: bytes, state: AdapterState) -> ParseResult:
    text = decode_text(payload)
    if isinstance(text, Rejection):
        return text
    availability: JsonValue = text
    if text.startswith("{"):
        body = decode_json_object(payload)
        if isinstance(body, Rejection):
            return body
        availability = body.get("state")
    if not isinstance(availability, str) or availability.lower() not in ("online", "offline"):
        return Rejection(RejectReason.INVALID, "availability must be online or offline")
    online = availability.lower() == "online"
    return Parsed((DeviceEvent(EventType.ONLINE if online else EventType.OFFLINE),), state)


def _device_state(payload: bytes, state: AdapterState) -> ParseResult:
    body = decode_json_object(payload)
    if isinstance(body, Rejection):
        return body
    action = body.get("action")
    if action is not None and not isinstance(action, str):
        return Rejection(RejectReason.INVALID, "'action' must be a string")
    sos = body.get(SOS_STATE_KEY)
    if SOS_STATE_KEY in body and not isinstance(sos, bool):
        return Rejection(RejectReason.INVALID, "'sos' must be true or false")

    def event(event_type: EventType, pressed: str | None = None) -> DeviceEvent:
        """An event carrying what every message of this device tells: battery, link, time."""
        return DeviceEvent(
            event_type,
            occurred_at=_last_seen(body.get("last_seen")),
            battery=as_percent(body.get("battery")),
            signal=_linkquality(body.get("linkquality")),
            action=pressed,
        )

    events: list[DeviceEvent] = []
    if sos is True and state.get(SOS_STATE_KEY) is not True:
        events.append(event(EventType.SOS))
    if action and action.strip() and not _is_release(action):
        events.append(event(EventType.PRESS, action.strip()[:MAX_ACTION_LENGTH]))
    elif "action" not in body and not events:
        events.append(event(_report_type(body)))
    new_state = state if sos is None else {**state, SOS_STATE_KEY: sos}
    return Parsed(tuple(events), new_state)


def _report_type(body: JsonObject) -> EventType:
    """What a plain state report (no press, no SOS) is worth."""
    if body.get("battery_low") is True:
        return EventType.LOW_BATTERY
    if as_percent(body.get("battery")) is not None:
        return EventType.BATTERY
    return EventType.HEARTBEAT


def _is_release(action: str) -> bool:
    normalized = action.strip().lower()
    return normalized == RELEASE or normalized.endswith(f"_{RELEASE}")


def _linkquality(raw: JsonValue) -> int | None:
    return as_int(raw, 0, MAX_LINKQUALITY)


def _last_seen(raw: JsonValue) -> datetime | None:
    """``last_seen`` is ISO 8601, or epoch *milliseconds* when configured as ``epoch``."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return parse_timestamp(raw / 1000)
    return parse_timestamp(raw)


ADAPTER = Zigbee2MqttAdapter()

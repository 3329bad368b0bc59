"""The one small interface every device family implements.

An adapter is pure and total: it turns one MQTT message (topic, payload bytes, retain
flag, the time the monitor received it) plus the little state it kept for that device
into a list of normalized ``DeviceEvent``s, or a typed ``Rejection``. It never does I/O,
never reads the clock and never raises on bad input.

Besides the interface: what the families share, written once. ``FamilyDefaults`` answers as
most families do, ``RoutedFamily`` is the frame in which the families whose topics say what a
message is read every message, and the helpers below read payloads totally (text, JSON,
numbers, times, positions) and make topic filters.
"""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Generic, Protocol, TypeAlias, TypeVar

JsonValue: TypeAlias = "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None"
#: a JSON object: what most families' payloads are, and the parts nested in them
JsonObject: TypeAlias = dict[str, JsonValue]
AdapterState: TypeAlias = Mapping[str, JsonValue]

#: Payloads larger than this are refused before any parsing (docs/architecture.md, invariant 4).
MAX_PAYLOAD_BYTES = 64 * 1024

RouteT = TypeVar("RouteT")


class EventType(StrEnum):
    """What a device said, normalized across families."""

    SOS = "sos"
    FALL = "fall"
    CANCEL = "cancel"
    CHECKIN = "checkin"
    PRESS = "press"  # a button press whose meaning the device's action map decides
    HEARTBEAT = "heartbeat"
    LOCATION = "location"
    BATTERY = "battery"  # a battery level report
    LOW_BATTERY = "low_battery"  # the device itself says its battery is low
    ONLINE = "online"
    OFFLINE = "offline"
    GEOFENCE = "geofence"  # region enter/leave reported by the device


class RejectReason(StrEnum):
    """Why a message could not be read; counted per reason in /metrics."""

    OVERSIZED = "oversized"
    NOT_UTF8 = "not_utf8"
    MALFORMED = "malformed"  # not the syntax the family speaks (bad JSON, ...)
    INVALID = "invalid"  # right syntax, wrong shape or types
    UNSUPPORTED = "unsupported"  # well-formed but a message type we do not handle
    UNKNOWN_TOPIC = "unknown_topic"  # the topic is not one of this family's
    UNKNOWN_DEVICE = "unknown_device"  # no device in the directory for it


@dataclass(frozen=True, slots=True)
class Position:
    lat: float
    lon: float
    accuracy_m: float | None = None
    fixed_at: datetime | None = None
    speed_kmh: float | None = None


@dataclass(frozen=True, slots=True)
class DeviceMessage:
    """One MQTT message as the monitor received it."""

    topic: str
    payload: bytes
    retained: bool
    received_at: datetime


@dataclass(frozen=True, slots=True)
class DeviceProfile:
    """What the directory says about the device a message belongs to."""

    device_id: str
    kind: str  # button | gps_phone | checkin_button
    topic: str
    serial: str | None = None
    #: press action -> event type name ("sos", "cancel", "checkin", "none"); "*" matches any
    action_map: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    type: EventType
    #: the device's own id for this event; redelivery of the same id is ignored
    event_id: str | None = None
    occurred_at: datetime | None = None
    battery: int | None = None  # percent, 0-100
    signal: int | None = None  # family-specific link quality / RSSI, as reported
    position: Position | None = None
    action: str | None = None  # for PRESS: the family's name for the press
    region: str | None = None  # for GEOFENCE
    transition: str | None = None  # for GEOFENCE: "enter" | "leave"
    detail: str | None = None  # a short human-readable note for the timeline


@dataclass(frozen=True, slots=True)
class Parsed:
    events: tuple[DeviceEvent, ...]
    #: what the adapter wants to remember for this device (edge detection, counters)
    state: AdapterState = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: RejectReason
    detail: str


ParseResult: TypeAlias = Parsed | Rejection


class DeviceAdapter(Protocol):
    """One device family. Implementations live one per module in ``devices/``."""

    #: the directory's ``protocol`` value for this family
    protocol: str
    #: seconds between two reports of a healthy device, for devices whose directory entry
    #: gives no ``heartbeat_s``; 0 when the family reports at no regular pace (its Last Will
    #: or availability topic is then the only sign that it went away)
    default_heartbeat_s: int

    def default_topic(self, device_id: str) -> str:
        """The device's base topic when the directory gives none."""
        ...

    def topic_filters(self, device: DeviceProfile) -> tuple[str, ...]:
        """MQTT filters to subscribe for this device; equal filters are subscribed once."""
        ...

    def locate(self, message: DeviceMessage) -> str | Rejection:
        """The reference of the device a message is about (see ``device_ref``)."""
        ...

    def device_ref(self, device: DeviceProfile) -> str:
        """The reference ``locate`` returns for this device's messages."""
        ...

    def parse(self, message: DeviceMessage, device: DeviceProfile, state: AdapterState) -> ParseResult:
        """Turn one message for ``device`` into events, given the state kept from before."""
        ...

    def feedback_topic(self, device: DeviceProfile) -> str | None:
        """Where to tell the device what became of its alert; None when it cannot listen."""
        ...


class FamilyDefaults:
    """The answers most families give to two of ``DeviceAdapter``'s questions, written once.

    A family overrides what it answers otherwise: Traccar names every device in the payload of
    one shared topic, and only callwatch's own devices listen for feedback.
    """

    def device_ref(self, device: DeviceProfile) -> str:
        """A device's messages come on its own topic, so the topic is its reference."""
        return device.topic

    def feedback_topic(self, device: DeviceProfile) -> str | None:
        """Third-party devices cannot be told what became of their alert."""
        return None


class RoutedFamily(FamilyDefaults, ABC, Generic[RouteT]):
    """A family whose topics tell which device a message is from and what kind of message it is.

    Such families read every message in the same frame, kept here so that none can skip a step:
    a topic that is not one of the family's is an UNKNOWN_TOPIC rejection, a payload over the
    limit is refused unread, an empty payload (a cleared retained message) gives no events; only
    then does the family read the payload, knowing from ``route`` which of its topics it came on.
    """

    @abstractmethod
    def route(self, topic: str) -> RouteT | Rejection:
        """What the topic says about a message (the device, which of its topics), or why it is not the family's."""

    @abstractmethod
    def device_of(self, route: RouteT) -> str:
        """The device reference within a routed topic (what ``locate`` returns)."""

    @abstractmethod
    def read(self, route: RouteT, payload: bytes, state: AdapterState) -> ParseResult:
        """A payload within the size limit and not empty, on the topic ``route`` describes."""

    def locate(self, message: DeviceMessage) -> str | Rejection:
        route = self.route(message.topic)
        return route if isinstance(route, Rejection) else self.device_of(route)

    def parse(self, message: DeviceMessage, device: DeviceProfile, state: AdapterState) -> ParseResult:
        route = self.route(message.topic)
        if isinstance(route, Rejection):
            return route
        if (unread := nothing_to_read(message.payload, state)) is not None:
            return unread
        return self.read(route, message.payload, state)


def split_suffix(topic: str, suffixes: Iterable[str]) -> tuple[str, str] | None:
    """``(device topic, suffix)`` for the first of ``suffixes`` that ``topic`` ends with, something
    standing before it; None when it ends with none of them."""
    for suffix in suffixes:
        if topic.endswith(suffix) and len(topic) > len(suffix):
            return topic[: -len(suffix)], suffix
    return None


def check_size(payload: bytes, limit: int = MAX_PAYLOAD_BYTES) -> Rejection | None:
    if len(payload) > limit:
        return Rejection(RejectReason.OVERSIZED, f"payload is {len(payload)} bytes, limit {limit}")
    return None


def nothing_to_read(payload: bytes, state: AdapterState) -> ParseResult | None:
    """The result for a payload that needs no parsing: too big (rejected) or empty (a cleared
    retained message, so no events); None when there is something to read."""
    if (oversized := check_size(payload)) is not None:
        return oversized
    if not payload:
        return Parsed((), state)
    return None


def parse_presence(payload: bytes, state: AdapterState, *, online: str, offline: str, what: str) -> ParseResult:
    """A plain-text availability word such as ``true``/``false`` or ``Online``/``Offline``, any case."""
    text = decode_text(payload)
    if isinstance(text, Rejection):
        return text
    word = text.lower()
    if word == online.lower():
        return Parsed((DeviceEvent(EventType.ONLINE),), state)
    if word == offline.lower():
        return Parsed((DeviceEvent(EventType.OFFLINE),), state)
    return Rejection(RejectReason.INVALID, f"{what} must be {online} or {offline}, got {text[:40]!r}")


def decode_text(payload: bytes) -> str | Rejection:
    """A plain-text payload (``online``, ``84``...), stripped, or a typed rejection."""
    if (oversized := check_size(payload)) is not None:
        return oversized
    try:
        return payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        return Rejection(RejectReason.NOT_UTF8, "payload is not UTF-8")


def decode_json_object(payload: bytes) -> JsonObject | Rejection:
    """Decode a payload that must be one JSON object, as a typed rejection otherwise."""
    text = decode_text(payload)
    if isinstance(text, Rejection):
        return text
    try:
        decoded = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return Rejection(RejectReason.MALFORMED, f"not JSON: {str(exc)[:80]}")
    if not isinstance(decoded, dict):
        return Rejection(RejectReason.INVALID, f"expected a JSON object, got {type(decoded).__name__}")
    return decoded


def parse_timestamp(raw: JsonValue) -> datetime | None:
    """Epoch seconds (int/float/numeric string) or ISO 8601; None when unreadable."""
    if isinstance(raw, bool) or raw is None:
        return None
    try:
        if isinstance(raw, int | float):
            return datetime.fromtimestamp(float(raw), tz=UTC)
        if isinstance(raw, str):
            stripped = raw.strip()
            try:
                return datetime.fromtimestamp(float(stripped), tz=UTC)
            except ValueError:
                parsed = datetime.fromisoformat(stripped.replace("Z", "+00:00"))
                return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def as_float(raw: JsonValue) -> float | None:
    """A finite number from a JSON value (numbers or numeric strings), else None.

    Total: JSON integers beyond float range (``1e400`` written out) are None too.
    """
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return None
    try:
        value = float(raw.strip() if isinstance(raw, str) else raw)
    except (ValueError, OverflowError):
        return None
    return value if math.isfinite(value) else None


def as_non_negative(raw: JsonValue) -> float | None:
    """A finite number that is not negative (an accuracy, a speed), else None."""
    value = as_float(raw)
    return value if value is not None and value >= 0 else None


def as_int(raw: JsonValue, low: int, high: int) -> int | None:
    """A number within ``[low, high]``, rounded to an integer; None when absent or out of range."""
    value = as_float(raw)
    if value is None or not low <= value <= high:
        return None
    return round(value)


def as_percent(raw: JsonValue) -> int | None:
    """A battery percentage 0-100, or None (OwnTracks sends -1 for unknown)."""
    return as_int(raw, 0, 100)


def as_position(
    lat: JsonValue,
    lon: JsonValue,
    *,
    accuracy_m: float | None = None,
    fixed_at: datetime | None = None,
    speed_kmh: float | None = None,
) -> Position | None:
    """A position from JSON latitude/longitude, or None when either is missing or out of range."""
    latitude, longitude = as_float(lat), as_float(lon)
    if latitude is None or longitude is None:
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return Position(latitude, longitude, accuracy_m, fixed_at, speed_kmh)


def sibling_filters(device_topic: str, *suffixes: str) -> tuple[str, ...]:
    """``sibling_filter`` for each of the device's topics ``device_topic + suffix``."""
    return tuple(sibling_filter(device_topic, suffix) for suffix in suffixes)


def sibling_filter(device_topic: str, suffix: str = "") -> str:
    """A filter matching ``device_topic + suffix`` for this device and its siblings.

    The device's own last topic level becomes ``+`` so that every device under the same
    prefix shares one subscription: ``zigbee2mqtt/hall`` + ``/availability`` ->
    ``zigbee2mqtt/+/availability``.
    """
    parent, _, _ = device_topic.rpartition("/")
    return f"{parent}/+{suffix}" if parent else f"+{suffix}"

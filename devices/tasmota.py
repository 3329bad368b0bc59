"""Tasmota, the ESP8266/ESP32 firmware (https://tasmota.github.io/docs/MQTT/).

With the default FullTopic ``%prefix%/%topic%/``, a device whose Topic is ``bedside`` (the
directory's ``topic``; by default the device id) publishes:

- ``stat/bedside/RESULT`` ``{"Button1":{"Action":"SINGLE"}}`` (SetOption73 1: buttons detached
  from relays), the same on ``stat/bedside/BUTTON1`` (SetOption4 1), and the older
  ``stat/bedside/BUTTON1`` ``{"ACTION":"SINGLE"}`` -> PRESS with the action as sent (SINGLE,
  DOUBLE, TRIPLE, QUAD, PENTA, HOLD), detail ``button <n>``. ``CLEAR``, sent when a held
  button is let go, ends a HOLD already reported: no event. Other ``stat`` messages (command
  replies, POWER...) -> no events.
- ``tele/bedside/LWT`` ``Online`` / ``Offline`` (retained) -> ONLINE / OFFLINE.
- ``tele/bedside/STATE``, every TelePeriod -> HEARTBEAT, signal = ``Wifi.Signal`` (dBm).

Tasmota's ``Time`` field is local time without a zone, so no occurred_at is taken from it.
An empty payload (a cleared retained message) yields no events. No adapter state.
"""

from __future__ import annotations

import re

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
    decode_json_object,
    parse_presence,
)

STAT = "stat"
TELE = "tele"
LWT = "LWT"
STATE = "STATE"
RESULT = "RESULT"
BUTTON_NAME = re.compile(r"button([0-9]{1,2})", re.IGNORECASE)
RELEASE_ACTION = "CLEAR"
MAX_ACTION_LENGTH = 32
MIN_DBM, MAX_DBM = -150, 0


class TasmotaAdapter(RoutedFamily[tuple[str, str, str]]):
    """Routes are ``(prefix, device topic, name)``, the three levels of the topics it subscribes to."""

    protocol = "tasmota"
    default_heartbeat_s = 300  # tele/<topic>/STATE every TelePeriod, 300 s unless changed

    def default_topic(self, device_id: str) -> str:
        return device_id

    def topic_filters(self, device: DeviceProfile) -> tuple[str, ...]:
        return (f"{STAT}/+/+", f"{TELE}/+/{LWT}", f"{TELE}/+/{STATE}")

    def route(self, topic: str) -> tuple[str, str, str] | Rejection:
        levels = topic.split("/")
        if len(levels) != 3 or not levels[1]:
            return Rejection(RejectReason.UNKNOWN_TOPIC, f"{topic!r} is not a Tasmota topic")
        prefix, device_topic, name = levels
        if prefix == STAT or (prefix == TELE and name in (LWT, STATE)):
            return prefix, device_topic, name
        return Rejection(RejectReason.UNKNOWN_TOPIC, f"{topic!r}: not stat/<t>/*, tele/<t>/LWT, tele/<t>/STATE")

    def device_of(self, route: tuple[str, str, str]) -> str:
        return route[1]

    def read(self, route: tuple[str, str, str], payload: bytes, state: AdapterState) -> ParseResult:
        prefix, _, name = route
        if prefix == TELE and name == LWT:
            return parse_presence(payload, state, online="Online", offline="Offline", what="LWT")
        if prefix == TELE:
            return _telemetry(payload, state)
        if name == RESULT or BUTTON_NAME.fullmatch(name):
            return _buttons(payload, name, state)
        return Parsed((), state)


def _telemetry(payload: bytes, state: AdapterState) -> ParseResult:
    body = decode_json_object(payload)
    if isinstance(body, Rejection):
        return body
    wifi = body.get("Wifi")
    signal = as_int(wifi.get("Signal"), MIN_DBM, MAX_DBM) if isinstance(wifi, dict) else None
    return Parsed((DeviceEvent(EventType.HEARTBEAT, signal=signal),), state)


def _buttons(payload: bytes, topic_name: str, state: AdapterState) -> ParseResult:
    """Presses in ``{"ButtonN":{"Action":..}}`` or, on ``BUTTONn`` topics, ``{"ACTION":..}``."""
    body = decode_json_object(payload)
    if isinstance(body, Rejection):
        return body
    presses: list[tuple[str, JsonValue]] = []
    for key, value in body.items():
        if (button := BUTTON_NAME.fullmatch(key)) is None:
            continue
        if not isinstance(value, dict):
            return Rejection(RejectReason.INVALID, f"{key[:20]!r} must be an object")
        presses.append((button.group(1), _field(value, "action")))
    if not presses and (button := BUTTON_NAME.fullmatch(topic_name)) is not None:
        presses.append((button.group(1), _field(body, "action")))
    events: list[DeviceEvent] = []
    for number, action in presses:
        if not isinstance(action, str) or not action.strip():
            return Rejection(RejectReason.INVALID, f"button {number} has no string 'Action'")
        if action.strip().upper() != RELEASE_ACTION:
            events.append(
                DeviceEvent(EventType.PRESS, action=action.strip()[:MAX_ACTION_LENGTH], detail=f"button {number}")
            )
    return Parsed(tuple(events), state)


def _field(body: JsonObject, name: str) -> JsonValue:
    """A field by case-insensitive name: Tasmota wrote ``ACTION`` before it wrote ``Action``."""
    return next((value for key, value in body.items() if key.lower() == name), None)


ADAPTER = TasmotaAdapter()

"""Shelly Gen1 devices, e.g. the Shelly Button1 (https://shelly-api-docs.shelly.cloud/gen1/#mqtt).

Topics under ``shellies/<id>`` (the directory's ``topic``):

- ``input_event/<n>`` ``{"event":"S","event_cnt":7}`` -> PRESS. Event codes become actions:
  S ``single``, SS ``double``, SSS ``triple``, L ``long``, SL ``short_long``, LS
  ``long_short``; other codes pass through as sent. The device repeats its last event (on
  wake-up, on reconnect), so only a *change* of ``event_cnt`` on that input is a new press;
  an empty ``event`` (nothing pressed since boot) is none. Adapter state:
  ``{"event_cnt": {"<n>": <last count>}}``. No event_id: the count restarts when the device
  reboots, so ``input<n>:<count>`` would name a new press like an old one; the state kept
  in the same transaction already tells a redelivered message from a new press.
- ``sensor/battery`` plain percent -> BATTERY.
- ``online`` ``true`` / ``false`` (retained) -> ONLINE / OFFLINE.

An empty payload (a cleared retained message) yields no events.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from devices.base import (
    AdapterState,
    DeviceEvent,
    DeviceProfile,
    EventType,
    JsonObject,
    Parsed,
    ParseResult,
    Rejection,
    RejectReason,
    RoutedFamily,
    as_percent,
    decode_json_object,
    decode_text,
    parse_presence,
    sibling_filters,
)

INPUT_EVENT_SUFFIX = "/input_event/+"
BATTERY_SUFFIX = "/sensor/battery"
ONLINE_SUFFIX = "/online"
SUBSCRIBED_SUFFIXES = (INPUT_EVENT_SUFFIX, BATTERY_SUFFIX, ONLINE_SUFFIX)
DEVICE_TOPIC = re.compile(r"(?P<base>.+)/(?:input_event/(?P<channel>[0-9]{1,3})|sensor/battery|online)")
COUNTS_KEY = "event_cnt"
PRESS_ACTIONS: Mapping[str, str] = {
    "S": "single",
    "SS": "double",
    "SSS": "triple",
    "L": "long",
    "SL": "short_long",
    "LS": "long_short",
}
MAX_ACTION_LENGTH = 32


class ShellyAdapter(RoutedFamily[re.Match[str]]):
    protocol = "shelly"
    #: the Button1 sleeps on battery and wakes to report a few times a day
    default_heartbeat_s = 12 * 3600

    def default_topic(self, device_id: str) -> str:
        return f"shellies/{device_id}"

    def topic_filters(self, device: DeviceProfile) -> tuple[str, ...]:
        return sibling_filters(device.topic, *SUBSCRIBED_SUFFIXES)

    def route(self, topic: str) -> re.Match[str] | Rejection:
        if (match := DEVICE_TOPIC.fullmatch(topic)) is None:
            return Rejection(RejectReason.UNKNOWN_TOPIC, f"{topic!r} is not a Shelly Gen1 device topic")
        return match

    def device_of(self, route: re.Match[str]) -> str:
        return route["base"]

    def read(self, route: re.Match[str], payload: bytes, state: AdapterState) -> ParseResult:
        if route["channel"] is not None:
            return _input_event(payload, route["channel"], state)
        if route.string.endswith(ONLINE_SUFFIX):
            return parse_online(payload, state)
        return _battery(payload, state)


def parse_online(payload: bytes, state: AdapterState) -> ParseResult:
    """Both Shelly generations publish ``true`` / ``false`` on ``<topic>/online``."""
    return parse_presence(payload, state, online="true", offline="false", what="online")


def _battery(payload: bytes, state: AdapterState) -> ParseResult:
    text = decode_text(payload)
    if isinstance(text, Rejection):
        return text
    battery = as_percent(text)
    if battery is None:
        return Rejection(RejectReason.INVALID, f"battery must be a percentage, got {text[:40]!r}")
    return Parsed((DeviceEvent(EventType.BATTERY, battery=battery),), state)


def _input_event(payload: bytes, channel: str, state: AdapterState) -> ParseResult:
    body = decode_json_object(payload)
    if isinstance(body, Rejection):
        return body
    code, count = body.get("event"), body.get("event_cnt")
    if not isinstance(code, str):
        return Rejection(RejectReason.INVALID, "'event' must be a string")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        return Rejection(RejectReason.INVALID, "'event_cnt' must be a non-negative integer")
    counts = _counts(state)
    if counts.get(channel) == count:
        return Parsed((), state)
    new_state = {**state, COUNTS_KEY: {**counts, channel: count}}
    if not code.strip():
        return Parsed((), new_state)
    action = PRESS_ACTIONS.get(code.strip().upper(), code.strip()[:MAX_ACTION_LENGTH])
    return Parsed((DeviceEvent(EventType.PRESS, action=action),), new_state)


def _counts(state: AdapterState) -> JsonObject:
    """The last ``event_cnt`` per input channel, from the state kept for this device."""
    counts = state.get(COUNTS_KEY)
    return dict(counts) if isinstance(counts, dict) else {}


ADAPTER = ShellyAdapter()

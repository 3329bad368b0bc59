"""Shelly Gen2 and later (Plus, Pro, Gen3; https://shelly-api-docs.shelly.cloud/gen2/).

The device publishes under its MQTT prefix (the directory's ``topic``; by default the device
id, e.g. ``shellyplusi4-a8032ab12345``):

- ``<prefix>/events/rpc``: JSON-RPC notifications.
  ``NotifyEvent`` -> one PRESS per ``*_push`` event (``single_push``, ``double_push``,
  ``triple_push``, ``long_push``...), action as sent, detail = the component (``input:0``),
  event_id ``<component>:<event>:<ts>`` when ``ts`` is a real time (a device that has not yet
  synchronized its clock after a reboot counts from 1970 again, and such an id could name a
  later press like an earlier one: no id then); ``btn_down`` / ``btn_up`` and other events carry
  nothing. ``NotifyStatus`` / ``NotifyFullStatus`` -> BATTERY when a ``devicepower``
  component reports ``battery.percent``, else HEARTBEAT; signal = ``wifi.rssi`` (dBm).
  Other methods -> UNSUPPORTED.
- ``<prefix>/online`` ``true`` / ``false`` (retained) -> ONLINE / OFFLINE.

An empty payload (a cleared retained message) yields no events. No adapter state: the
events' own timestamps make redelivery idempotent.
"""

from __future__ import annotations

from datetime import UTC, datetime

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
    as_int,
    as_percent,
    decode_json_object,
    parse_timestamp,
    sibling_filters,
    split_suffix,
)
from devices.shelly import parse_online

EVENTS_SUFFIX = "/events/rpc"
ONLINE_SUFFIX = "/online"
PRESS_SUFFIX = "_push"
STATUS_METHODS = frozenset({"NotifyStatus", "NotifyFullStatus"})
POWER_COMPONENT = "devicepower"
MAX_NAME_LENGTH = 32
MIN_DBM, MAX_DBM = -150, 0
#: before this, a device's ``ts`` is a clock not yet set since boot, not the time of day
EARLIEST_REAL_TIME = datetime(2020, 1, 1, tzinfo=UTC)


class ShellyGen2Adapter(RoutedFamily[tuple[str, str]]):
    """Routes are ``(prefix, suffix)``: the device's prefix and which of its two topics."""

    protocol = "shelly_gen2"
    #: mains-powered and always connected: its Last Will on ``<prefix>/online`` tells
    default_heartbeat_s = 0

    def default_topic(self, device_id: str) -> str:
        return device_id

    def topic_filters(self, device: DeviceProfile) -> tuple[str, ...]:
        return sibling_filters(device.topic, EVENTS_SUFFIX, ONLINE_SUFFIX)

    def route(self, topic: str) -> tuple[str, str] | Rejection:
        if (split := split_suffix(topic, (EVENTS_SUFFIX, ONLINE_SUFFIX))) is None:
            return Rejection(RejectReason.UNKNOWN_TOPIC, f"{topic!r}: not <prefix>/events/rpc or /online")
        return split

    def device_of(self, route: tuple[str, str]) -> str:
        return route[0]

    def read(self, route: tuple[str, str], payload: bytes, state: AdapterState) -> ParseResult:
        if route[1] == ONLINE_SUFFIX:
            return parse_online(payload, state)
        return _notification(payload, state)


def _notification(payload: bytes, state: AdapterState) -> ParseResult:
    body = decode_json_object(payload)
    if isinstance(body, Rejection):
        return body
    method, params = body.get("method"), body.get("params")
    if not isinstance(method, str):
        return Rejection(RejectReason.INVALID, "not a JSON-RPC notification: no string 'method'")
    if not isinstance(params, dict):
        return Rejection(RejectReason.INVALID, "'params' must be an object")
    if method == "NotifyEvent":
        events = _presses(params)
    elif method in STATUS_METHODS:
        events = (_status_report(params),)
    else:
        return Rejection(RejectReason.UNSUPPORTED, f"unhandled method {method[:40]!r}")
    return events if isinstance(events, Rejection) else Parsed(events, state)


def _presses(params: JsonObject) -> tuple[DeviceEvent, ...] | Rejection:
    entries = params.get("events")
    if not isinstance(entries, list):
        return Rejection(RejectReason.INVALID, "NotifyEvent 'events' must be a list")
    presses: list[DeviceEvent] = []
    for entry in entries:
        raw_name = entry.get("event") if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or not isinstance(raw_name, str):
            return Rejection(RejectReason.INVALID, "each NotifyEvent event must be an object with an 'event'")
        name = raw_name.strip()[:MAX_NAME_LENGTH]
        if not name.endswith(PRESS_SUFFIX):
            continue
        component = entry.get("component")
        component = component[:MAX_NAME_LENGTH] if isinstance(component, str) else None
        occurred_at = parse_timestamp(entry.get("ts")) or parse_timestamp(params.get("ts"))
        presses.append(
            DeviceEvent(
                EventType.PRESS,
                event_id=_event_id(component, name, occurred_at),
                occurred_at=occurred_at,
                action=name,
                detail=component,
            )
        )
    return tuple(presses)


def _status_report(params: JsonObject) -> DeviceEvent:
    battery = _battery_percent(params)
    wifi = params.get("wifi")
    return DeviceEvent(
        EventType.HEARTBEAT if battery is None else EventType.BATTERY,
        occurred_at=parse_timestamp(params.get("ts")),
        battery=battery,
        signal=as_int(wifi.get("rssi"), MIN_DBM, MAX_DBM) if isinstance(wifi, dict) else None,
    )


def _battery_percent(params: JsonObject) -> int | None:
    """``battery.percent`` of the first ``devicepower:<n>`` component that reports one."""
    for key, status in params.items():
        if not key.startswith(POWER_COMPONENT) or not isinstance(status, dict):
            continue
        charge = status.get("battery")
        if isinstance(charge, dict) and (percent := as_percent(charge.get("percent"))) is not None:
            return percent
    return None


def _event_id(component: str | None, name: str, occurred_at: datetime | None) -> str | None:
    if occurred_at is None or occurred_at < EARLIEST_REAL_TIME:
        return None
    return f"{component or '?'}:{name}:{occurred_at.timestamp():.3f}"


ADAPTER = ShellyGen2Adapter()

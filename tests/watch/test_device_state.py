"""A device's state as ingest changes it: only what a message changed is written back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from devices.base import DeviceEvent, EventType
from monitor.store.models import Device
from monitor.watch.device_state import DeviceState, record_sign_of_life
from monitor.watch.rules import SupervisionRules

SEEN = datetime(2026, 5, 3, 8, 0, tzinfo=UTC)
RULES = SupervisionRules()


def known_button() -> Device:
    """A button heard from a minute ago, online, battery 80 %."""
    return Device(
        id="btn-1",
        heartbeat_s=300,
        adapter_state={},
        online=True,
        last_seen_at=SEEN - timedelta(minutes=1),
        offline_at=None,
        battery=80,
        battery_low=False,
        battery_noticed=False,
        offline_noticed=False,
        signal=None,
        last_lat=None,
        last_lon=None,
        last_accuracy_m=None,
        last_fix_at=None,
        review_at=None,
    )


def test_a_heartbeat_changes_when_the_device_was_seen_and_when_to_look_again_nothing_else() -> None:
    state = DeviceState.of(known_button())
    record_sign_of_life(state, [DeviceEvent(EventType.HEARTBEAT, battery=80)], SEEN, retained=False, rules=RULES)
    silent_from = SEEN + 2 * timedelta(seconds=300) + timedelta(minutes=1)
    assert state.changed() == {"last_seen_at": SEEN, "review_at": silent_from}


def test_a_last_will_after_a_low_battery_report_keeps_both() -> None:
    state = DeviceState.of(known_button())
    record_sign_of_life(state, [DeviceEvent(EventType.HEARTBEAT, battery=15)], SEEN, retained=False, rules=RULES)
    later = SEEN + timedelta(seconds=5)
    record_sign_of_life(state, [DeviceEvent(EventType.OFFLINE)], later, retained=False, rules=RULES)
    assert state.changed() == {
        "last_seen_at": later,
        "battery": 15,
        "battery_low": True,
        "online": False,
        "offline_at": later,
        "review_at": later,  # the battery is low and not yet noticed: supervision looks at once
    }


def test_a_retained_status_replayed_on_subscribe_is_no_sign_of_life() -> None:
    state = DeviceState.of(known_button())
    record_sign_of_life(state, [DeviceEvent(EventType.ONLINE)], SEEN, retained=True, rules=RULES)
    assert "last_seen_at" not in state.changed()

"""The small decisions supervision makes from a device's state alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.config.settings import SupervisionSettings
from monitor.store.models import Device
from monitor.watch.rules import SupervisionRules, heartbeat_grace

NOW = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)
RULES = SupervisionRules()


def device(**state: object) -> Device:
    values: dict[str, object] = {
        "id": "btn-1",
        "heartbeat_s": 300,
        "online": True,
        "last_seen_at": NOW,
        "offline_noticed": False,
        "battery_low": False,
        "battery_noticed": False,
    }
    values.update(state)
    return Device(**values)


def test_offline_after_two_missed_heartbeats_plus_grace() -> None:
    assert RULES.silent_after(device()) == NOW + timedelta(seconds=600) + timedelta(minutes=1)
    assert heartbeat_grace(12 * 3600) == timedelta(hours=1.2)  # a tenth of long intervals
    assert RULES.silent_after(device(heartbeat_s=0)) is None
    assert RULES.silent_after(device(last_seen_at=None)) is None  # supervision starts with the first message


def test_battery_hovering_at_the_threshold_is_low_once() -> None:
    low, flips = False, 0
    for percent in (25, 21, 19, 21, 20, 22, 18, 29, 19):
        now_low = RULES.battery_now_low(low, percent, device_says_low=False)
        flips += now_low != low
        low = now_low
    assert (low, flips) == (True, 1)
    assert RULES.battery_now_low(True, RULES.battery_cleared_at, device_says_low=False) is False
    assert RULES.battery_now_low(False, RULES.battery_low_at, device_says_low=False) is True


def test_a_device_saying_its_battery_is_low_is_believed() -> None:
    assert RULES.battery_now_low(False, None, device_says_low=True) is True
    assert RULES.battery_now_low(True, None, device_says_low=False) is True


def test_review_times() -> None:
    assert RULES.next_review(device(), NOW) == RULES.silent_after(device())
    gone = device(online=False, offline_at=NOW)
    assert RULES.next_review(gone, NOW) == NOW + RULES.offline_settle
    assert RULES.next_review(device(online=False, offline_at=NOW, offline_noticed=True, heartbeat_s=0), NOW) is None
    assert RULES.next_review(device(offline_noticed=True), NOW) == NOW  # back: end its alert now
    assert RULES.next_review(device(battery_low=True, heartbeat_s=0), NOW) == NOW


def test_the_config_sets_the_numbers() -> None:
    rules = SupervisionRules.from_settings(
        SupervisionSettings(
            offline_after_missed_heartbeats=3,
            offline_settle_s=300,
            battery_low_percent=15,
            battery_cleared_percent=40,
        )
    )
    assert rules.silent_after(device()) == NOW + timedelta(seconds=900) + timedelta(minutes=1)
    assert rules.next_review(device(online=False, offline_at=NOW), NOW) == NOW + timedelta(minutes=5)
    assert rules.battery_now_low(False, 20, device_says_low=False) is False  # 20 % is fine at 15 %
    assert rules.battery_now_low(True, 35, device_says_low=False) is True  # not well again below 40 %

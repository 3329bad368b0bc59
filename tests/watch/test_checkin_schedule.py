"""Check-in deadlines in the resident's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from devices.base import DeviceEvent, EventType
from monitor.store.models import Device
from monitor.watch.checkins import day_start, is_checkin, latest_deadline, next_deadline

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def test_deadlines_are_local_times_of_the_residents_zone() -> None:
    before = datetime(2026, 5, 4, 1, 59, tzinfo=UTC)  # 09:59 in Shanghai
    assert next_deadline(before, "10:00", SHANGHAI) == datetime(2026, 5, 4, 10, 0, tzinfo=SHANGHAI)
    assert latest_deadline(before, "10:00", SHANGHAI) == datetime(2026, 5, 3, 10, 0, tzinfo=SHANGHAI)
    after = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)  # 10:00 sharp
    assert latest_deadline(after, "10:00", SHANGHAI) == datetime(2026, 5, 4, 10, 0, tzinfo=SHANGHAI)
    assert next_deadline(after, "10:00", SHANGHAI) == datetime(2026, 5, 5, 10, 0, tzinfo=SHANGHAI)


def test_a_check_in_counts_from_local_midnight() -> None:
    deadline = datetime(2026, 5, 4, 10, 0, tzinfo=SHANGHAI)
    assert day_start(deadline) == datetime(2026, 5, 4, 0, 0, tzinfo=SHANGHAI)


def test_daylight_saving_keeps_the_local_time() -> None:
    # Berlin moves its clocks on 2026-03-29: the deadline stays at 10:00 local, one hour earlier in UTC
    before = next_deadline(datetime(2026, 3, 28, 12, 0, tzinfo=UTC), "10:00", BERLIN)
    assert before.astimezone(UTC).hour == 8
    assert next_deadline(before, "10:00", BERLIN).astimezone(UTC).hour == 8
    assert next_deadline(datetime(2026, 3, 27, 12, 0, tzinfo=UTC), "10:00", BERLIN).astimezone(UTC).hour == 9


def test_what_counts_as_a_check_in() -> None:
    button, checkin_button = Device(kind="button"), Device(kind="checkin_button")
    assert is_checkin(button, DeviceEvent(EventType.CHECKIN))
    assert not is_checkin(button, DeviceEvent(EventType.SOS))
    assert is_checkin(checkin_button, DeviceEvent(EventType.SOS))  # any press of a check-in button
    assert not is_checkin(checkin_button, DeviceEvent(EventType.HEARTBEAT))

"""The numbers supervision decides by, and the small decisions made from them alone."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from monitor.store.models import Device

#: A device is offline after this many heartbeat intervals without a message...
HEARTBEATS_MISSED = 2
#: ...plus a grace period for slow networks and sleepy radios: a tenth of the interval, at least a minute.
GRACE_SHARE = 0.1
GRACE_AT_LEAST = timedelta(minutes=1)
#: An offline device raises nothing for this long: a blip stays quiet, and the devices of one
#: area that drop within it are judged together (the alarm-storm window).
OFFLINE_SETTLE = timedelta(minutes=1)
#: This many devices of one area offline together are one area_outage alert, not one alert each.
STORM_MIN_DEVICES = 5
#: Battery hysteresis: low at or below LOW, well again only at or above CLEARED, so a battery
#: reading 19, 21, 19, 22... raises one alert, not one per report.
BATTERY_LOW_AT = 20
BATTERY_CLEARED_AT = 30
#: Duty staff get device-health news in one SMS at most this often.
STAFF_SMS_GAP = timedelta(minutes=15)
#: The area team's daily digest goes out at this time of day (the service's time zone).
DIGEST_AT = time(9, 0)
#: Device event ids are remembered this long to drop redeliveries (the broker redelivers within
#: minutes of a reconnect); after that, a device reusing an id is heard again.
SEEN_EVENTS_KEPT = timedelta(days=7)


def heartbeat_grace(heartbeat_s: int) -> timedelta:
    return max(GRACE_AT_LEAST, timedelta(seconds=heartbeat_s * GRACE_SHARE))


def silent_after(device: Device) -> datetime | None:
    """When a device that stays quiet counts as offline; None when it has no heartbeat."""
    if device.heartbeat_s <= 0 or device.last_seen_at is None:
        return None
    return (
        device.last_seen_at
        + HEARTBEATS_MISSED * timedelta(seconds=device.heartbeat_s)
        + heartbeat_grace(device.heartbeat_s)
    )


def battery_now_low(was_low: bool, percent: int | None, device_says_low: bool) -> bool:
    """The battery state after a report, by the hysteresis rule."""
    if device_says_low or (percent is not None and percent <= BATTERY_LOW_AT):
        return True
    if percent is not None and percent >= BATTERY_CLEARED_AT:
        return False
    return was_low


def next_review(device: Device, now: datetime) -> datetime | None:
    """When supervision must next look at ``device``; None when nothing is pending or due."""
    moments: list[datetime] = []
    if device.online is False:
        if not device.offline_noticed and device.offline_at is not None:
            moments.append(device.offline_at + OFFLINE_SETTLE)
    else:
        if device.offline_noticed:
            moments.append(now)  # back online: its offline alert can end
        if (silent := silent_after(device)) is not None:
            moments.append(silent)
    if device.battery_low != device.battery_noticed:
        moments.append(now)
    return min(moments, default=None)

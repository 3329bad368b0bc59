"""The numbers supervision decides by (``[supervision]`` in the config), and the small
decisions made from them alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Protocol

from monitor.config.settings import SupervisionSettings

#: The grace period after the missed heartbeats, for slow networks and sleepy radios: a tenth
#: of the interval, at least a minute.
GRACE_SHARE = 0.1
GRACE_AT_LEAST = timedelta(minutes=1)
#: Device event ids are remembered this long to drop redeliveries (the broker redelivers within
#: minutes of a reconnect); after that, a device reusing an id is heard again.
SEEN_EVENTS_KEPT = timedelta(days=7)


class Supervised(Protocol):
    """What the rules read of a device: its row (``Device``) or ingest's copy of it (``DeviceState``)."""

    @property
    def heartbeat_s(self) -> int: ...
    @property
    def last_seen_at(self) -> datetime | None: ...
    @property
    def online(self) -> bool | None: ...
    @property
    def offline_at(self) -> datetime | None: ...
    @property
    def offline_noticed(self) -> bool: ...
    @property
    def battery_low(self) -> bool: ...
    @property
    def battery_noticed(self) -> bool: ...


def heartbeat_grace(heartbeat_s: int) -> timedelta:
    return max(GRACE_AT_LEAST, timedelta(seconds=heartbeat_s * GRACE_SHARE))


@dataclass(frozen=True)
class SupervisionRules:
    #: A device is offline after this many heartbeat intervals without a message (plus grace).
    heartbeats_missed: int = 2
    #: An offline device raises nothing for this long: a blip stays quiet, and the devices of one
    #: area that drop within it are judged together (the alarm-storm window).
    offline_settle: timedelta = timedelta(minutes=1)
    #: This many devices of one area offline together are one area_outage alert, not one alert each.
    outage_min_devices: int = 5
    #: Battery hysteresis: low at or below ``battery_low_at``, well again only at or above
    #: ``battery_cleared_at``, so a battery reading 19, 21, 19, 22... raises one alert.
    battery_low_at: int = 20
    battery_cleared_at: int = 30
    #: Duty staff get device-health news in one SMS at most this often.
    staff_sms_gap: timedelta = timedelta(minutes=15)
    #: The area team's daily digest goes out at this time of day (the service's time zone).
    digest_at: time = time(9, 0)

    @classmethod
    def from_settings(cls, settings: SupervisionSettings) -> SupervisionRules:
        return cls(
            heartbeats_missed=settings.offline_after_missed_heartbeats,
            offline_settle=timedelta(seconds=settings.offline_settle_s),
            outage_min_devices=settings.outage_min_devices,
            battery_low_at=settings.battery_low_percent,
            battery_cleared_at=settings.battery_cleared_percent,
            staff_sms_gap=timedelta(seconds=settings.staff_sms_every_s),
            digest_at=settings.digest_at,
        )

    def silent_after(self, device: Supervised) -> datetime | None:
        """When a device that stays quiet counts as offline; None when it has no heartbeat."""
        if device.heartbeat_s <= 0 or device.last_seen_at is None:
            return None
        return (
            device.last_seen_at
            + self.heartbeats_missed * timedelta(seconds=device.heartbeat_s)
            + heartbeat_grace(device.heartbeat_s)
        )

    def battery_now_low(self, was_low: bool, percent: int | None, device_says_low: bool) -> bool:
        """The battery state after a report, by the hysteresis rule."""
        if device_says_low or (percent is not None and percent <= self.battery_low_at):
            return True
        if percent is not None and percent >= self.battery_cleared_at:
            return False
        return was_low

    def next_review(self, device: Supervised, now: datetime) -> datetime | None:
        """When supervision must next look at ``device``; None when nothing is pending or due."""
        moments: list[datetime] = []
        if device.online is False:
            if not device.offline_noticed and device.offline_at is not None:
                moments.append(device.offline_at + self.offline_settle)
        else:
            if device.offline_noticed:
                moments.append(now)  # back online: its offline alert can end
            if (silent := self.silent_after(device)) is not None:
                moments.append(silent)
        if device.battery_low != device.battery_noticed:
            moments.append(now)
        return min(moments, default=None)

"""What the on-call tests share: a directory with schedules, a clock set to a chosen local time,
and the SMS rows the monitor queued (alerts and their logs: tests/watch/kit.py).

The people are the deployment's (``simulator.harness.neighbourhood``) with schedules, and the
volunteers placed around a resident for nearest-first tests; the in-process escalation tests
(tests/escalation/kit.py) draw on the same people. Times are Asia/Shanghai. Wednesday
2026-05-06 is the day: at 03:00 the area team (evening volunteers) is off duty and the leader
on call; at 19:00 everyone is.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from monitor.runtime.service import Monitor
from monitor.store.models import Notification
from simulator.directory_entries import Entry, TomlValue, area_then_leaders, directory_file, entry
from simulator.harness import neighbourhood as people
from tests.support.deployment import Deployment

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEDNESDAY_0300 = datetime(2026, 5, 6, 3, 0, tzinfo=SHANGHAI)
WEDNESDAY_1900 = datetime(2026, 5, 6, 19, 0, tzinfo=SHANGHAI)

LI_MING, ZHANG_WEI = people.TIER1  # v-1, area team, zh: on call daily 18:00-23:00; v-2, en: weekdays 17:00-22:00
CHEN_JING = people.TIER2  # v-9, area leader: no schedule, always on call
ZHOU_MIN = "+8613900000005"  # v-5, the other area's volunteer: weekends only
DUTY = people.STAFF
WANG_LEI = "+8613700000001"  # r-1's son, zh
AMY_WANG = "+447700900001"  # r-1's granddaughter, en

HEXI: Entry = {"id": "a-2", "name": "Hexi 1"}
#: the area team with their schedules, and the other area's volunteer
LI_MING_EVENINGS: Entry = {**people.LI_MING, "on_call": [{"days": ["daily"], "from": "18:00", "to": "23:00"}]}
ZHANG_WEI_WEEKDAYS: Entry = {
    **people.ZHANG_WEI,
    "timezone": "Asia/Shanghai",
    "on_call": [{"days": ["mon-fri"], "from": "17:00", "to": "22:00"}],
}
ZHOU_MIN_WEEKENDS: Entry = {
    "id": "v-5",
    "name": "Zhou Min",
    "phone": ZHOU_MIN,
    "areas": ["a-2"],
    "on_call": [{"days": ["weekends"]}],
}
SON: dict[str, TomlValue] = {"name": "Wang Lei", "phone": WANG_LEI, "relationship": "son"}
GRANDDAUGHTER: dict[str, TomlValue] = {
    "name": "Amy Wang",
    "phone": AMY_WANG,
    "relationship": "granddaughter",
    "language": "en",
}

#: volunteers placed around a resident living at ``CENTRE`` (each test's area is its own)
CENTRE = (30.2741, 120.1551)
NEAR = "+8613900000011"  # n-1: home about 300 m away
FAR = "+8613900000012"  # n-2: home about 1.2 km away
ROAMING = "+8613900000013"  # n-3: home 5 km away; shares her phone's position
NEAR_NEIGHBOUR: Entry = {
    "id": "n-1",
    "name": "Near Neighbour",
    "phone": NEAR,
    "home": {"lat": 30.2768, "lon": 120.1551},
}
FAR_FRIEND: Entry = {"id": "n-2", "name": "Far Friend", "phone": FAR, "home": {"lat": 30.2849, "lon": 120.1551}}
ROAMING_RITA: Entry = {
    "id": "n-3",
    "name": "Roaming Rita",
    "phone": ROAMING,
    "home": {"lat": 30.3191, "lon": CENTRE[1]},
    "share_location": True,
}
RITAS_PHONE = entry("devices", id="phone-n-3", volunteer="n-3", protocol="owntracks", topic="owntracks/n3/phone")

#: the usual policy: the area team for a minute, then the leader for a minute
TWO_TIERS = area_then_leaders(60, 60)


def directory(*, family: bool = False, policies: str = TWO_TIERS, extra: str = "") -> str:
    """The deployment's neighbourhood with schedules and a second area; r-1's family when
    ``family``; ``policies`` and ``extra`` entries (TOML) after them."""
    return directory_file(
        entry("areas", **people.TIANXIAN),
        entry("areas", **HEXI),
        entry("residents", **people.WANG_XIUYING, family=[SON, GRANDDAUGHTER] if family else None),
        entry("residents", **people.MARGARET_CHEN),
        # the tests move the clock by hours: no device-health alerts beside theirs
        entry("devices", id="btn-1", resident=people.RESIDENT_ZH, heartbeat_s=0),
        entry("devices", id="btn-2", resident=people.RESIDENT_EN, heartbeat_s=0),
        entry("volunteers", **LI_MING_EVENINGS),
        entry("volunteers", **ZHANG_WEI_WEEKDAYS),
        entry("volunteers", **people.CHEN_JING),
        entry("volunteers", **ZHOU_MIN_WEEKENDS),
        entry("volunteers", **people.DUTY_DESK),
        policies,
        extra,
    )


def use_directory(deployment: Deployment, text: str) -> None:
    """The deployment's config as usual, with this directory."""
    deployment.write_files()
    deployment.directory_path.write_text(text, encoding="utf-8")


async def sms_rows(monitor: Monitor, phone: str) -> list[Notification]:
    async with monitor.database.read() as session:
        query = select(Notification).where(Notification.phone == phone).order_by(Notification.id)
        return list((await session.scalars(query)).all())

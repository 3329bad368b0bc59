"""What the on-call tests share: a directory with schedules, a clock set to a chosen local time,
and reads of what the monitor decided (alerts, their logs, SMS rows).

Times are Asia/Shanghai. Wednesday 2026-05-06 is the day: at 03:00 the area team (evening
volunteers) is off duty and the leader on call; at 19:00 everyone is.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from monitor.runtime.service import Monitor
from monitor.store.models import AlertEvent, Notification
from tests.support.deployment import Deployment

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEDNESDAY_0300 = datetime(2026, 5, 6, 3, 0, tzinfo=SHANGHAI)
WEDNESDAY_1900 = datetime(2026, 5, 6, 19, 0, tzinfo=SHANGHAI)

LI_MING = "+8613900000001"  # v-1, area team, zh: on call daily 18:00-23:00
ZHANG_WEI = "+8613900000002"  # v-2, area team, en: on call weekdays 17:00-22:00
CHEN_JING = "+8613900000009"  # v-9, area leader: no schedule, always on call
ZHOU_MIN = "+8613900000005"  # v-5, the other area's volunteer: weekends only
DUTY = "+8613900000100"
WANG_LEI = "+8613700000001"  # r-1's son, zh
AMY_WANG = "+447700900001"  # r-1's granddaughter, en

AREAS = """
[[areas]]
id = "a-1"
name = "Tianxian 3"

[[areas]]
id = "a-2"
name = "Hexi 1"
"""

RESIDENTS = """
[[residents]]
id = "r-1"
name = "王秀英"
address = "12栋3单元201"
area = "a-1"
phone = "+8613800000001"
language = "zh"
{family}

[[residents]]
id = "r-2"
name = "Margaret Chen"
address = "8 Riverside Lane, Flat 4"
area = "a-1"
language = "en"

[[devices]]
id = "btn-1"
resident = "r-1"
heartbeat_s = 0  # the tests move the clock by hours: no device-health alerts beside theirs

[[devices]]
id = "btn-2"
resident = "r-2"
heartbeat_s = 0
"""

FAMILY = f"""family = [
  {{ name = "Wang Lei", phone = "{WANG_LEI}", relationship = "son" }},
  {{ name = "Amy Wang", phone = "{AMY_WANG}", relationship = "granddaughter", language = "en" }},
]"""

VOLUNTEERS = f"""
[[volunteers]]
id = "v-1"
name = "Li Ming"
phone = "{LI_MING}"
areas = ["a-1"]
language = "zh"
on_call = [{{ days = ["daily"], from = "18:00", to = "23:00" }}]

[[volunteers]]
id = "v-2"
name = "Zhang Wei"
phone = "{ZHANG_WEI}"
areas = ["a-1"]
language = "en"
timezone = "Asia/Shanghai"
on_call = [{{ days = ["mon-fri"], from = "17:00", to = "22:00" }}]

[[volunteers]]
id = "v-9"
name = "Chen Jing"
phone = "{CHEN_JING}"
areas = ["a-1"]
role = "leader"

[[volunteers]]
id = "v-5"
name = "Zhou Min"
phone = "{ZHOU_MIN}"
areas = ["a-2"]
on_call = [{{ days = ["weekends"] }}]

[[volunteers]]
id = "duty-1"
name = "Duty Desk"
phone = "{DUTY}"
role = "staff"
"""

TWO_TIERS = """
[[policies]]
id = "default"
tiers = [
  { notify = ["area"], ack_timeout_s = 60 },
  { notify = ["role:leader"], ack_timeout_s = 60 },
]
"""


def directory(*, family: bool = False, policies: str = TWO_TIERS, extra: str = "") -> str:
    return AREAS + RESIDENTS.format(family=FAMILY if family else "") + VOLUNTEERS + policies + extra


def use_directory(deployment: Deployment, text: str) -> None:
    """The deployment's config as usual, with this directory."""
    deployment.write_files()
    deployment.directory_path.write_text(text, encoding="utf-8")


async def log_of(monitor: Monitor, alert_id: int, *kinds: str) -> list[AlertEvent]:
    query = select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)
    if kinds:
        query = query.where(AlertEvent.kind.in_(kinds))
    async with monitor.database.read() as session:
        return list((await session.scalars(query)).all())


async def sms_rows(monitor: Monitor, phone: str) -> list[Notification]:
    async with monitor.database.read() as session:
        query = select(Notification).where(Notification.phone == phone).order_by(Notification.id)
        return list((await session.scalars(query)).all())

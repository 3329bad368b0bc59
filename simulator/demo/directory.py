"""The demo's directory: two areas, 20 residents with devices of every family, 8 volunteers.

Generated rather than shipped, because two things depend on the run: the escalation
timeouts (short with ``--fast``) and today's check-in deadline, set a minute or two ahead
so the demo shows a missed check-in while you watch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

TIMEZONE = "Asia/Shanghai"
#: Zhou Lan's safe zone: a 200 m circle around her home; the demo walks her out of it.
HOME = (30.27410, 120.15510)
SAFE_RADIUS_M = 200


@dataclass(frozen=True, slots=True)
class DemoResident:
    id: str
    name: str
    area: str
    address: str
    language: str
    device: str
    protocol: str = "native"
    kind: str = "button"
    extra: str = ""  # more device keys (topic, serial, actions)
    resident_extra: str = ""  # more resident keys (safe_zone, checkin_by)


def topic(name: str) -> str:
    return f'topic = "{name}"\n'


def checkin_deadline(now: datetime, zone: ZoneInfo, lead_s: int = 70) -> str:
    """An "HH:MM" deadline at least ``lead_s`` from now, so the monitor sees it coming."""
    local = now.astimezone(zone) + timedelta(seconds=lead_s + 59)
    return local.strftime("%H:%M")


def residents(checkin_by: str | None) -> list[DemoResident]:
    checkin = f'checkin_by = "{checkin_by}"\ntimezone = "{TIMEZONE}"\n' if checkin_by else ""
    lat, lon = HOME
    zone = f'safe_zone = {{ lat = {lat}, lon = {lon}, radius_m = {SAFE_RADIUS_M}, region = "home" }}\n'
    a, b = "tianxian-3", "hexi-1"
    return [
        DemoResident("r-01", "王秀英", a, "12栋3单元201", "zh", "btn-01"),
        DemoResident(
            "r-02",
            "陈桂英",
            a,
            "12栋1单元502",
            "zh",
            "watch-02",
            "traccar",
            "gps_phone",
            'topic = "events"\nserial = "868003031230002"\n',
        ),
        DemoResident(
            "r-03",
            "周兰",
            a,
            "14栋2单元301",
            "zh",
            "phone-03",
            "owntracks",
            "gps_phone",
            'topic = "owntracks/zhoulan/phone"\nactions = { manual = "sos" }\n',
            zone,
        ),
        DemoResident("r-04", "刘芳", a, "15栋1单元101", "zh", "plug-04", "tasmota", extra=topic("liu_bedside")),
        DemoResident(
            "r-05",
            "孙丽",
            a,
            "15栋2单元402",
            "zh",
            "chk-05",
            "zigbee2mqtt",
            "checkin_button",
            topic("zigbee2mqtt/sun_checkin"),
            checkin,
        ),
        DemoResident("r-06", "杨梅", a, "16栋1单元203", "zh", "btn-06", resident_extra=checkin),
        DemoResident("r-07", "赵淑珍", a, "16栋2单元604", "zh", "btn-07"),
        DemoResident("r-08", "黄玉兰", a, "17栋1单元301", "zh", "shelly-08", "shelly", extra=topic("shellies/huang")),
        DemoResident("r-09", "吴秀兰", a, "17栋2单元102", "zh", "i4-09", "shelly_gen2", extra=topic("wu_i4")),
        DemoResident("r-10", "徐桂兰", a, "18栋1单元503", "zh", "zb-10", "zigbee2mqtt", extra=topic("zigbee2mqtt/xu")),
        DemoResident("r-11", "Margaret Chen", b, "8 Riverside Lane, Flat 4", "en", "btn-11"),
        *[
            DemoResident(f"r-{number}", name, b, f"Building 7, Flat {number - 10}", "en", f"btn-{number}")
            for number, name in zip(
                range(12, 18), ("Ada Lam", "Ben Yip", "Carol Ng", "David Ho", "Edith Mak", "Frank Lau"), strict=True
            )
        ],
        DemoResident(
            "r-18", "Grace Tse", b, "3 Harbour Rd", "en", "shelly-18", "shelly", extra=topic("shellies/grace")
        ),
        DemoResident("r-19", "Henry Chow", b, "5 Harbour Road", "en", "i4-19", "shelly_gen2", extra=topic("henry_i4")),
        DemoResident(
            "r-20", "Irene Kwok", b, "9 Harbour Rd", "en", "zb-20", "zigbee2mqtt", extra=topic("zigbee2mqtt/ik")
        ),
    ]


VOLUNTEERS = """
[[volunteers]]
id = "v-01"
name = "李明"
phone = "+8613900000001"
areas = ["tianxian-3"]

[[volunteers]]
id = "v-02"
name = "张伟"
phone = "+8613900000002"
areas = ["tianxian-3"]

[[volunteers]]
id = "v-03"
name = "吴敏"
phone = "+8613900000003"
areas = ["tianxian-3"]

[[volunteers]]
id = "v-11"
name = "Anna Wu"
phone = "+8613900000011"
areas = ["hexi-1"]
language = "en"

[[volunteers]]
id = "v-12"
name = "Tom Lee"
phone = "+8613900000012"
areas = ["hexi-1"]
language = "en"

[[volunteers]]
id = "v-13"
name = "Grace Ho"
phone = "+8613900000013"
areas = ["hexi-1"]
language = "en"

[[volunteers]]
id = "v-09"
name = "陈静"
phone = "+8613900000009"
areas = ["tianxian-3", "hexi-1"]
role = "leader"

[[volunteers]]
id = "duty-1"
name = "值班台"
phone = "+8613900000100"
role = "staff"
"""


def demo_directory(*, tier_timeout_s: int, checkin_by: str | None) -> str:
    """The directory file's text."""
    parts = [
        '[[areas]]\nid = "tianxian-3"\nname = "天仙三社区"\n',
        '[[areas]]\nid = "hexi-1"\nname = "Hexi 1"\n',
    ]
    for resident in residents(checkin_by):
        parts.append(
            f'[[residents]]\nid = "{resident.id}"\nname = "{resident.name}"\naddress = "{resident.address}"\n'
            f'area = "{resident.area}"\nlanguage = "{resident.language}"\n{resident.resident_extra}'
        )
        parts.append(
            f'[[devices]]\nid = "{resident.device}"\nresident = "{resident.id}"\nkind = "{resident.kind}"\n'
            f'protocol = "{resident.protocol}"\n{resident.extra}'
        )
    parts.append(VOLUNTEERS)
    parts.append(
        '[[policies]]\nid = "default"\ntiers = [\n'
        f'  {{ notify = ["area"], ack_timeout_s = {tier_timeout_s} }},\n'
        f'  {{ notify = ["role:leader"], ack_timeout_s = {tier_timeout_s} }},\n]\nrepeat = 0\n'
    )
    return "\n".join(parts)

"""The demo's directory: two areas, 20 residents with devices of every family, 8 volunteers.

Generated rather than shipped, because two things depend on the run: the escalation
timeouts (short with ``--fast``) and today's check-in deadline, set a minute or two ahead
so the demo shows a missed check-in while you watch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from simulator.directory_entries import Entry, area_then_leaders, directory_file, entry

TIMEZONE = "Asia/Shanghai"
#: Zhou Lan's safe zone: a 200 m circle around her home; the demo walks her out of it.
HOME = (30.27410, 120.15510)
SAFE_RADIUS_M = 200
TIANXIAN, HEXI = "tianxian-3", "hexi-1"


@dataclass(frozen=True, slots=True)
class DemoResident:
    """A resident and the one device they have."""

    id: str
    name: str
    area: str
    address: str
    language: str
    device: str
    protocol: str = "native"
    kind: str = "button"
    #: more of the device's keys (topic, serial, actions)
    device_keys: Entry = field(default_factory=dict)
    #: more of the resident's keys (safe_zone, checkin_by)
    resident_keys: Entry = field(default_factory=dict)

    def entries(self) -> list[str]:
        resident = entry(
            "residents",
            id=self.id,
            name=self.name,
            address=self.address,
            area=self.area,
            language=self.language,
            **self.resident_keys,
        )
        device = entry(
            "devices", id=self.device, resident=self.id, kind=self.kind, protocol=self.protocol, **self.device_keys
        )
        return [resident, device]


def topic(name: str) -> Entry:
    return {"topic": name}


def checkin_deadline(now: datetime, zone: ZoneInfo, lead_s: int = 70) -> str:
    """An "HH:MM" deadline at least ``lead_s`` from now, so the monitor sees it coming."""
    local = now.astimezone(zone) + timedelta(seconds=lead_s + 59)
    return local.strftime("%H:%M")


def residents(checkin_by: str | None) -> list[DemoResident]:
    checkin: Entry = {"checkin_by": checkin_by, "timezone": TIMEZONE} if checkin_by else {}
    lat, lon = HOME
    zone: Entry = {"safe_zone": {"lat": lat, "lon": lon, "radius_m": SAFE_RADIUS_M, "region": "home"}}
    a, b = TIANXIAN, HEXI
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
            {"topic": "events", "serial": "868003031230002"},
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
            {"topic": "owntracks/zhoulan/phone", "actions": {"manual": "sos"}},
            zone,
        ),
        DemoResident("r-04", "刘芳", a, "15栋1单元101", "zh", "plug-04", "tasmota", device_keys=topic("liu_bedside")),
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
        DemoResident("r-06", "杨梅", a, "16栋1单元203", "zh", "btn-06", resident_keys=checkin),
        DemoResident("r-07", "赵淑珍", a, "16栋2单元604", "zh", "btn-07"),
        DemoResident(
            "r-08", "黄玉兰", a, "17栋1单元301", "zh", "shelly-08", "shelly", device_keys=topic("shellies/huang")
        ),
        DemoResident("r-09", "吴秀兰", a, "17栋2单元102", "zh", "i4-09", "shelly_gen2", device_keys=topic("wu_i4")),
        DemoResident(
            "r-10", "徐桂兰", a, "18栋1单元503", "zh", "zb-10", "zigbee2mqtt", device_keys=topic("zigbee2mqtt/xu")
        ),
        DemoResident("r-11", "Margaret Chen", b, "8 Riverside Lane, Flat 4", "en", "btn-11"),
        *[
            DemoResident(f"r-{number}", name, b, f"Building 7, Flat {number - 10}", "en", f"btn-{number}")
            for number, name in zip(
                range(12, 18), ("Ada Lam", "Ben Yip", "Carol Ng", "David Ho", "Edith Mak", "Frank Lau"), strict=True
            )
        ],
        DemoResident(
            "r-18", "Grace Tse", b, "3 Harbour Rd", "en", "shelly-18", "shelly", device_keys=topic("shellies/grace")
        ),
        DemoResident(
            "r-19", "Henry Chow", b, "5 Harbour Road", "en", "i4-19", "shelly_gen2", device_keys=topic("henry_i4")
        ),
        DemoResident(
            "r-20", "Irene Kwok", b, "9 Harbour Rd", "en", "zb-20", "zigbee2mqtt", device_keys=topic("zigbee2mqtt/ik")
        ),
    ]


#: each area's team, by id; a volunteer's phone ends in the number of their id
TEAMS: dict[str, dict[str, str]] = {
    TIANXIAN: {"v-01": "李明", "v-02": "张伟", "v-03": "吴敏"},
    HEXI: {"v-11": "Anna Wu", "v-12": "Tom Lee", "v-13": "Grace Ho"},
}
LANGUAGES = {TIANXIAN: None, HEXI: "en"}


def phone_of(volunteer_id: str) -> str:
    return f"+86139000000{volunteer_id.removeprefix('v-')}"


def volunteers() -> list[str]:
    """The two area teams, the leader serving both areas and the duty desk."""
    found = [
        entry(
            "volunteers",
            id=volunteer_id,
            name=name,
            phone=phone_of(volunteer_id),
            areas=[area],
            language=LANGUAGES[area],
        )
        for area, team in TEAMS.items()
        for volunteer_id, name in team.items()
    ]
    found.append(
        entry("volunteers", id="v-09", name="陈静", phone=phone_of("v-09"), areas=[TIANXIAN, HEXI], role="leader")
    )
    found.append(entry("volunteers", id="duty-1", name="值班台", phone="+8613900000100", role="staff"))
    return found


def demo_directory(*, tier_timeout_s: int, checkin_by: str | None) -> str:
    """The directory file's text."""
    return directory_file(
        entry("areas", id=TIANXIAN, name="天仙三社区"),
        entry("areas", id=HEXI, name="Hexi 1"),
        *(text for resident in residents(checkin_by) for text in resident.entries()),
        *volunteers(),
        area_then_leaders(tier_timeout_s, tier_timeout_s, repeat=0),
    )

"""Leaving the safe zone: one alert to the area team, with where, how precisely and how long
ago, and a map link; staying out adds nothing; coming back is written down."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from devices.base import DeviceMessage
from monitor.core.effects import Effects
from monitor.runtime.service import Monitor
from simulator.harness.deployment import set_setting
from tests.support.deployment import TIER1, Deployment
from tests.watch.kit import alert_log, alerts, device, eventually

HOME = (30.2741, 120.1551)
WANDERERS = """
[[residents]]
id = "r-g"
name = "Zhou Lan"
address = "3 Garden Road"
area = "a-1"
language = "en"
safe_zone = { lat = 30.2741, lon = 120.1551, radius_m = 300 }

[[devices]]
id = "phone-g"
resident = "r-g"
kind = "gps_phone"
protocol = "owntracks"
topic = "owntracks/zhou/phone"

[[residents]]
id = "r-w"
name = "Wu Fang"
area = "a-1"
language = "en"
safe_zone = { region = "home" }

[[devices]]
id = "phone-w"
resident = "r-w"
kind = "gps_phone"
protocol = "owntracks"
topic = "owntracks/wu/phone"
"""
UNFENCED = """
[[residents]]
id = "r-n"
name = "Qian Min"
area = "a-1"
language = "en"

[[devices]]
id = "phone-n"
resident = "r-n"
kind = "gps_phone"
protocol = "owntracks"
topic = "owntracks/qian/phone"
"""


async def locate(deployment: Deployment, monitor: Monitor, lat: float, lon: float, *, age_s: int = 0) -> None:
    """Zhou Lan's phone publishes a location; return once the monitor has it."""
    body = {"_type": "location", "lat": lat, "lon": lon, "acc": 15, "tst": int(time.time()) - age_s, "batt": 70}
    await deployment.publish("owntracks/zhou/phone", json.dumps(body))

    async def recorded() -> bool | None:
        found = await device(monitor, "phone-g")
        return True if (found.last_lat, found.last_lon) == (lat, lon) else None

    await eventually(recorded, what=f"position {lat},{lon} recorded")


async def test_leaving_the_safe_zone_alerts_the_area_team_with_the_position(deployment: Deployment) -> None:
    deployment.write_files(directory_extra=WANDERERS)
    set_setting(deployment, "sms", "responder_links", "false")  # the position itself in the SMS
    async with deployment.monitor() as monitor:
        await locate(deployment, monitor, *HOME, age_s=300)
        assert await alerts(monitor) == []

        await locate(deployment, monitor, 30.2941, 120.1551, age_s=120)  # 2.2 km north, fixed 2 min ago
        [alert] = await alerts(monitor)
        assert (alert.kind, alert.resident_id, alert.device_id, alert.state) == ("geofence", "r-g", "phone-g", "open")
        assert (alert.lat, alert.lon, alert.accuracy_m) == (30.2941, 120.1551, 15)
        asked = await deployment.sandbox.wait_for_messages(2)
        assert {message.to for message in asked} == set(TIER1)
        [body] = [message.body for message in asked if message.to == TIER1[1]]  # Zhang Wei reads English
        assert body.startswith("LEFT SAFE ZONE: Zhou Lan, 3 Garden Road, Tianxian 3, left the safe zone at ")
        assert " Location ±15m " in body and " (2 min old): " in body
        assert "https://www.openstreetmap.org/?mlat=30.29410&mlon=120.15510" in body

        await locate(deployment, monitor, 30.2951, 120.1561, age_s=60)  # still out: nothing new
        await locate(deployment, monitor, *HOME)  # back home
        assert [alert.id for alert in await alerts(monitor)] == [alert.id]
        returned = [entry for entry in await alert_log(monitor, alert.id) if entry.kind == "returned"]
        assert len(returned) == 1 and returned[0].detail.startswith("back in the safe zone at 30.27410,120.15510")
    assert len(deployment.sandbox.messages()) == 2


async def test_the_phone_saying_it_left_its_home_region_is_believed(deployment: Deployment) -> None:
    deployment.write_files(directory_extra=WANDERERS)
    set_setting(deployment, "sms", "responder_links", "false")
    async with deployment.monitor() as monitor:
        leave = {"_type": "transition", "event": "leave", "desc": "home", "lat": 30.28, "lon": 120.16, "acc": 40}
        await deployment.publish("owntracks/wu/phone/event", json.dumps({**leave, "tst": int(time.time())}))
        asked = await deployment.sandbox.wait_for_messages(2)
        [alert] = await alerts(monitor)
        assert (alert.kind, alert.resident_id, alert.lat, alert.lon, alert.accuracy_m) == (
            "geofence",
            "r-w",
            30.28,
            120.16,
            40,
        )
        [english] = [message.body for message in asked if message.to == TIER1[1]]
        assert "LEFT SAFE ZONE: Wu Fang" in english and "Location ±40m" in english
        assert all("±40m" in message.body for message in asked)


async def test_in_one_batch_only_the_phone_with_a_safe_zone_can_leave_it(deployment: Deployment) -> None:
    """Positions from a resident without a safe zone are kept on the device and alert nobody,
    also when they arrive in the same batch as a fenced resident's phone leaving."""
    deployment.write_files(directory_extra=WANDERERS + UNFENCED)
    async with deployment.monitor() as monitor:
        now = monitor.clock.now()

        def fix(topic: str, lat: float, lon: float, after_s: float) -> DeviceMessage:
            body = {"_type": "location", "lat": lat, "lon": lon, "acc": 15, "tst": int(now.timestamp()), "batt": 70}
            return DeviceMessage(topic, json.dumps(body).encode(), False, now + timedelta(seconds=after_s))

        async with monitor.database.write() as session:
            await monitor.ingest.processor.process(
                session,
                [
                    fix("owntracks/qian/phone", 31.2304, 121.4737, 0),  # 170 km away, no zone
                    fix("owntracks/zhou/phone", 30.2941, 120.1551, 0.1),  # 2.2 km out of hers
                    fix("owntracks/qian/phone", 31.2305, 121.4738, 0.2),
                ],
                Effects(),
            )
        [alert] = await alerts(monitor)
        assert (alert.kind, alert.resident_id) == ("geofence", "r-g")
        unfenced = await device(monitor, "phone-n")
        assert (unfenced.last_lat, unfenced.last_lon) == (31.2305, 121.4738)

"""Follow-through end to end: real Mosquitto, the real twilio client against the SMS sandbox,
replies as signed webhooks, `callwatch alerts --json`; the monitor in-process, or a real
`callwatch run` process SIGKILLed between the reminder and the deadline.

Zhang Wei (TIER1[1], en) takes 王秀英's SOS; Chen Jing (TIER2) is the next tier; Duty Desk (STAFF)
is duty staff.
"""

from __future__ import annotations

import json
from datetime import datetime

from monitor.runtime.service import Monitor
from monitor.store.models import VolunteerPhone
from simulator.directory_entries import directory_file, entry
from tests.oncall.kit import CENTRE, RITAS_PHONE, ROAMING, ROAMING_RITA
from tests.support.deployment import STAFF, TIER1, TIER2, Deployment, FeedbackListener
from tests.watch.kit import eventually

ZHANG_WEI = TIER1[1]
CENTRE_AT = {"lat": CENTRE[0], "lon": CENTRE[1]}


def with_deadlines(deployment: Deployment, *, arrive_within_s: int) -> None:
    """The deployment's files with its policy (the directory's last entry) giving ``arrive_within_s``."""
    deployment.write_files()
    text = deployment.directory_path.read_text(encoding="utf-8")
    deployment.directory_path.write_text(text.rstrip() + f"\narrive_within_s = {arrive_within_s}\n", encoding="utf-8")


def moment(alert: dict[str, object], key: str) -> datetime:
    value = alert[key]
    assert isinstance(value, str), (key, alert)
    return datetime.fromisoformat(value)


async def test_ack_on_my_way_here_done_by_sms_records_each_state_and_tells_the_device(deployment: Deployment) -> None:
    async with deployment.monitor(), FeedbackListener(deployment.broker) as feedback:
        await deployment.press("btn-1", event_id="press-1")
        await deployment.sandbox.wait_for_messages(2)
        [alert] = await deployment.wait_for_alerts(lambda alerts: len(alerts) == 1)
        code = alert["id"]
        phone = deployment.sandbox.phone(ZHANG_WEI)
        await phone.reply("ACK")
        await deployment.sandbox.wait_for_messages(1, to=ZHANG_WEI, body_contains="is yours")
        await phone.reply("OMW 10")
        await deployment.sandbox.wait_for_messages(1, to=ZHANG_WEI, body_contains="on your way")
        on_the_way = await feedback.wait_for("en_route")
        await phone.reply("HERE")
        await deployment.sandbox.wait_for_messages(1, to=ZHANG_WEI, body_contains="you are with")
        arrived = await feedback.wait_for("on_site")
        [on_site] = await deployment.wait_for_alerts(lambda alerts: alerts[0]["state"] == "on_site")
        await phone.reply(f"DONE {code}")
        await deployment.sandbox.wait_for_messages(1, to=ZHANG_WEI, body_contains="recorded as resolved")
        [done] = await deployment.wait_for_alerts(lambda alerts: alerts[0]["state"] == "resolved")
    today = deployment.today()
    report = deployment.cli(
        "report", "--config", str(deployment.config_path), "--from", today, "--to", today, "--format", "json"
    )
    assert report.returncode == 0, report.stderr
    responders = json.loads(report.stdout)["responders"]

    assert on_the_way == {"event_id": "press-1", "alert_id": code, "state": "en_route", "by": "Zhang", "eta_min": 10}
    assert (arrived["state"], arrived["by"]) == ("on_site", "Zhang")
    assert (on_site["acknowledged_by"], on_site["on_site_by"], on_site["follow_up"]) == ("v-2", "v-2", "remind_resolve")
    taken_at, set_off_at, eta = moment(done, "taken_at"), moment(done, "en_route_at"), moment(done, "eta")
    assert taken_at <= set_off_at < moment(done, "on_site_at") <= moment(done, "resolved_at")
    assert (eta - set_off_at).total_seconds() == 600
    assert (done["overdue"], done["outcome"], done["follow_up_at"]) == (False, "volunteer_visited", None)
    assert (responders["calls"], responders["arrivals"]) == (1, 1)
    assert responders["on_site_within_45min"]["within"] == 1 and responders["enough_to_judge"] is False


async def test_no_after_ack_hands_it_back_to_the_next_tier_and_tells_duty_staff_why(deployment: Deployment) -> None:
    async with deployment.monitor():
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(2)
        [alert] = await deployment.wait_for_alerts(lambda alerts: len(alerts) == 1)
        await deployment.sandbox.phone(ZHANG_WEI).reply("ACK")
        await deployment.sandbox.wait_for_messages(1, to=ZHANG_WEI, body_contains="is yours")
        await deployment.sandbox.phone(ZHANG_WEI).reply(f"NO {alert['id']} car broke down")
        [asked] = await deployment.sandbox.wait_for_messages(1, to=TIER2)
        [duty] = await deployment.sandbox.wait_for_messages(1, to=STAFF)
        await deployment.sandbox.wait_for_messages(1, to=ZHANG_WEI, body_contains="handed back")
        [reopened] = await deployment.wait_for_alerts(lambda alerts: alerts[0]["state"] == "open")

    assert "王秀英" in asked.body
    assert "Zhang Wei" in duty.body and "car broke down" in duty.body
    assert (reopened["tier"], reopened["acknowledged_by"]) == (2, None)


async def test_ack_and_silence_survives_a_kill_between_the_reminder_and_the_deadline(deployment: Deployment) -> None:
    """arrive_within_s = 10: the reminder 5 s after taking it, the deadline at 10 s. The monitor is
    killed right after the reminder; the restarted one re-escalates once and does not remind again."""
    with_deadlines(deployment, arrive_within_s=10)
    async with deployment.process() as monitor:
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(2)
        await deployment.sandbox.phone(ZHANG_WEI).reply("ACK")
        await deployment.sandbox.wait_for_messages(1, to=ZHANG_WEI, body_contains="is yours")
        await deployment.sandbox.wait_for_messages(1, to=ZHANG_WEI, body_contains="Are you on the way", timeout=15)
        monitor.kill()
        await monitor.start()
        [asked] = await deployment.sandbox.wait_for_messages(1, to=TIER2, timeout=15)
        [duty] = await deployment.sandbox.wait_for_messages(1, to=STAFF)
        await deployment.sandbox.wait_for_messages(1, to=ZHANG_WEI, body_contains="others are asked too")
        [overdue] = await deployment.wait_for_alerts(lambda alerts: alerts[0]["overdue"] is True)
        await deployment.sandbox.phone(ZHANG_WEI).reply("HERE")
        [arrived] = await deployment.wait_for_alerts(lambda alerts: alerts[0]["state"] == "on_site")
        await deployment.sandbox.idle()

    to_zhang = [message.body for message in deployment.sandbox.messages(to=ZHANG_WEI)]
    assert sum("Are you on the way" in body for body in to_zhang) == 1
    assert sum("others are asked too" in body for body in to_zhang) == 1
    # duty staff told once, in their own language (the duty desk reads Chinese)
    assert len(deployment.sandbox.messages(to=STAFF)) == 1
    assert duty.body.startswith("【超时】紧急求助：王秀英") and "Zhang Wei" in duty.body
    assert "王秀英" in asked.body
    assert (overdue["state"], overdue["tier"]) == ("open", 2)
    assert (arrived["acknowledged_by"], arrived["on_site_by"], arrived["overdue"]) == ("v-2", "v-2", True)


#: Ada Byrne lives at the centre; Roaming Rita (her area's volunteer) shares her OwnTracks position.
ADA_AND_RITA = directory_file(
    entry("residents", id="r-n", name="Ada Byrne", address="3 Quay Street", area="a-1", language="en", home=CENTRE_AT),
    entry("devices", id="btn-n", resident="r-n", protocol="native"),
    entry("volunteers", **ROAMING_RITA, areas=["a-1"], language="en"),
    RITAS_PHONE,
)


async def rita_is(deployment: Deployment, monitor: Monitor, metres_north: float) -> None:
    """Rita's OwnTracks app publishes a fix ``metres_north`` of Ada's home, and the monitor keeps it."""
    lat = CENTRE[0] + metres_north / 111_320
    fix = {"_type": "location", "lat": lat, "lon": CENTRE[1], "acc": 8, "tst": int(monitor.clock.now().timestamp())}
    await deployment.publish("owntracks/n3/phone", json.dumps(fix))

    async def kept() -> float | None:
        async with monitor.database.read() as session:
            phone = await session.get(VolunteerPhone, "phone-n-3")
        return phone.last_lat if phone is not None and phone.last_lat == lat else None

    await eventually(kept, what="Rita's position is kept")


async def test_a_shared_position_60_m_from_home_is_on_site_and_400_m_is_not(deployment: Deployment) -> None:
    deployment.write_files(directory_extra=ADA_AND_RITA)
    async with deployment.monitor() as monitor, FeedbackListener(deployment.broker) as feedback:
        await deployment.press("btn-n")
        await deployment.sandbox.wait_for_messages(1, to=ROAMING)
        await deployment.sandbox.phone(ROAMING).reply("ACK")
        await deployment.wait_for_alerts(lambda alerts: alerts[0]["state"] == "acknowledged")
        await rita_is(deployment, monitor, 400)
        [still_coming] = deployment.alerts()
        await rita_is(deployment, monitor, 60)
        [arrived] = await deployment.wait_for_alerts(lambda alerts: alerts[0]["state"] == "on_site")
        on_site = await feedback.wait_for("on_site", topic="callwatch/btn-n/feedback")
        await deployment.sandbox.wait_for_messages(1, to=ROAMING, body_contains="you are with Ada Byrne")

    assert still_coming["state"] == "acknowledged"
    assert (arrived["on_site_by"], on_site["by"]) == ("n-3", "Roaming")

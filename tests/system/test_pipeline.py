"""From a button press to an acknowledged alert: real Mosquitto, real database, real twilio client
against the SMS sandbox, replies as signed webhooks."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Sequence

import aiomqtt
import httpx
from sqlalchemy import select

from monitor.store.models import DeviceMessage
from simulator.harness.deployment import set_setting
from simulator.sandbox import Outcome
from tests.support.deployment import STAFF, STRANGER, TIER1, TIER2, Deployment, FeedbackListener
from tests.support.waiting import until


def alert_sms_to(deployment: Deployment, phone: str) -> list[str]:
    """Bodies of the alert requests a phone received (not confirmations or notices)."""
    return [m.body for m in deployment.sandbox.messages(to=phone) if "收到 " in m.body or "Reply ACK" in m.body]


async def test_sos_reaches_the_area_team_with_what_they_need_to_act(deployment: Deployment) -> None:
    async with deployment.monitor(), FeedbackListener(deployment.broker) as feedback:
        await deployment.press("btn-1", "sos", event_id="press-1")
        first, second = await deployment.sandbox.wait_for_messages(2)
        received = await feedback.wait_for("received", topic="callwatch/btn-1/feedback")

    assert {first.to, second.to} == set(TIER1)
    [alert] = deployment.alerts()
    bodies = {message.to: message.body for message in (first, second)}
    for body in bodies.values():
        assert "王秀英" in body and "12栋3单元201" in body and "Tianxian 3" in body
        assert f"{deployment.web_url}/r/" in body  # their own link to the responder page
    # how to reply, with the alert's number, in each volunteer's own language
    assert f"回复“收到 {alert['id']}”" in bodies[TIER1[0]]
    assert f"Reply ACK {alert['id']} to take it" in bodies[TIER1[1]]
    assert first.from_ == deployment.sandbox.from_number
    assert alert["kind"] == "sos" and alert["state"] == "open"
    assert (alert["device_id"], alert["resident_id"], alert["tier"]) == ("btn-1", "r-1", 1)
    assert alert["acknowledged_at"] is None and alert["acknowledged_by"] is None
    assert received == {"event_id": "press-1", "alert_id": alert["id"], "state": "received", "by": None}


async def test_where_links_are_refused_the_sms_carries_the_map_link(deployment: Deployment) -> None:
    set_setting(deployment, "sms", "responder_links", "false")
    async with deployment.monitor():
        await deployment.press("btn-2", "fall", lat=30.27411, lon=120.15515, acc=12)
        [first] = await deployment.sandbox.wait_for_messages(1, to=TIER1[1])  # Zhang Wei reads English
    assert "/r/" not in first.body
    assert first.body.startswith("FALL DETECTED: Margaret Chen, 8 Riverside Lane, Flat 4")
    assert "https://www.openstreetmap.org/?mlat=30.27411&mlon=120.15515" in first.body
    assert "±12m" in first.body
    assert re.search(r"Reply ACK \d+ to take it", first.body)


async def test_no_reply_escalates_to_tier_two_and_an_ack_ends_it(deployment: Deployment) -> None:
    deployment.tier1_timeout_s, deployment.tier2_timeout_s = 2, 2
    deployment.write_files()
    async with deployment.monitor(), FeedbackListener(deployment.broker) as feedback:
        pressed = time.monotonic()
        await deployment.press("btn-1")
        tier1 = await deployment.sandbox.wait_for_messages(2)
        [tier2] = await deployment.sandbox.wait_for_messages(1, to=TIER2, timeout=10)
        # The timeout runs from when tier 1 was asked, however long its SMS took to go out.
        assert tier2.arrived_monotonic - pressed >= 2.0
        waited = tier2.arrived_monotonic - max(message.arrived_monotonic for message in tier1)
        assert waited < 3.0, f"tier 2 asked {waited:.2f} s after tier 1 (timeout 2 s)"

        status = await deployment.sandbox.phone(TIER2).reply("ACK")
        assert status == 200
        taken = await deployment.sandbox.wait_for_messages(2, body_contains="Chen Jing")
        confirmation = await deployment.sandbox.wait_for_messages(1, to=TIER2, body_contains="完成")
        acknowledged = await feedback.wait_for("acknowledged")
        deadline = time.monotonic() + deployment.tier2_timeout_s + 1.0
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))  # past when tier 2 would have timed out
        sent_after = len(deployment.sandbox.messages())

    assert {message.to for message in taken} == set(TIER1)
    assert confirmation
    [alert] = deployment.alerts()
    assert (alert["state"], alert["acknowledged_by"], alert["tier"]) == ("acknowledged", "v-9", 2)
    assert alert["next_escalation_at"] is None
    assert acknowledged["by"] == "Chen" and acknowledged["alert_id"] == alert["id"]
    assert deployment.sandbox.messages(to=STAFF) == []
    # 2 tier-1 requests, 1 tier-2 request, 2 "taken" notices, 1 confirmation: nothing more.
    assert sent_after == 6
    assert [len(alert_sms_to(deployment, phone)) for phone in (*TIER1, TIER2)] == [1, 1, 1]


async def test_forged_reply_is_refused_and_changes_nothing(deployment: Deployment) -> None:
    async with deployment.monitor():
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(2)
        status = await deployment.sandbox.phone(TIER1[0]).reply("ACK", correctly_signed=False)
        async with httpx.AsyncClient() as client:
            unsigned = await client.post(
                f"{deployment.web_url}/twilio/sms", data={"From": TIER1[0], "Body": "ACK", "MessageSid": "SM1"}
            )
    assert status == 403 and unsigned.status_code == 403
    [alert] = deployment.alerts()
    assert alert["state"] == "open" and alert["acknowledged_by"] is None


async def test_reply_from_an_unknown_number_changes_nothing(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor:
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(2)
        status = await deployment.sandbox.phone(STRANGER).reply("ACK")
        metrics = monitor.metrics.render().decode()
    assert status == 200
    assert 'callwatch_sms_replies_total{outcome="unknown_number"} 1.0' in metrics
    [alert] = deployment.alerts()
    assert alert["state"] == "open"
    assert deployment.sandbox.messages(to=STRANGER) == []


async def test_the_same_event_delivered_twice_raises_one_alert(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor:
        await deployment.press("btn-1", event_id="once")
        await deployment.sandbox.wait_for_messages(2)
        await deployment.press("btn-1", event_id="once")
        await until(
            lambda: "callwatch_mqtt_messages_duplicate_total 1.0" in monitor.metrics.render().decode(),
            what="the second delivery counted as a duplicate",
        )
    assert len(deployment.alerts()) == 1
    assert len(deployment.sandbox.messages()) == 2


async def test_cancel_before_anyone_takes_it_tells_those_asked(deployment: Deployment) -> None:
    async with deployment.monitor(), FeedbackListener(deployment.broker) as feedback:
        await deployment.press("btn-1", event_id="p")
        await deployment.sandbox.wait_for_messages(2)
        await deployment.press("btn-1", "cancel", event_id="c")
        told = [
            *await deployment.sandbox.wait_for_messages(1, to=TIER1[0], body_contains="取消"),
            *await deployment.sandbox.wait_for_messages(1, to=TIER1[1], body_contains="cancelled"),
        ]
        cancelled = await feedback.wait_for("cancelled")
    assert {message.to for message in told} == set(TIER1)
    [alert] = deployment.alerts()
    assert alert["state"] == "cancelled" and alert["next_escalation_at"] is None
    assert cancelled["alert_id"] == alert["id"]


async def test_undeliverable_tier_moves_on_at_once(deployment: Deployment) -> None:
    deployment.tier1_timeout_s = 60
    deployment.write_files()
    for phone in TIER1:
        deployment.sandbox.outcomes.set(phone, Outcome.undelivered(30003))
    async with deployment.monitor():
        started = time.monotonic()
        await deployment.press("btn-1")
        [tier2] = await deployment.sandbox.wait_for_messages(1, to=TIER2, timeout=10)
    assert tier2.arrived_monotonic - started < 5, "tier 2 should not wait out tier 1's 60 s timeout"


async def test_decline_asks_the_next_tier_now(deployment: Deployment) -> None:
    deployment.tier1_timeout_s = 60
    deployment.write_files()
    async with deployment.monitor():
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(2)
        assert await deployment.sandbox.phone(TIER1[0]).reply("不行") == 200
        [tier2] = await deployment.sandbox.wait_for_messages(1, to=TIER2, timeout=5)
    assert "收到" in tier2.body
    [alert] = deployment.alerts()
    assert (alert["state"], alert["tier"]) == ("open", 2)


async def test_done_resolves_and_the_device_is_told(deployment: Deployment) -> None:
    async with deployment.monitor(), FeedbackListener(deployment.broker) as feedback:
        await deployment.press("btn-2")
        await deployment.sandbox.wait_for_messages(2)
        [alert] = await deployment.wait_for_alerts(lambda alerts: len(alerts) == 1)
        assert await deployment.sandbox.phone(TIER1[1]).reply(f"ack {alert['id']}") == 200
        await feedback.wait_for("acknowledged")
        assert await deployment.sandbox.phone(TIER1[1]).reply(f"DONE {alert['id']}") == 200
        await feedback.wait_for("resolved")
    [alert] = deployment.alerts()
    assert (alert["state"], alert["acknowledged_by"], alert["resolved_by"]) == ("resolved", "v-2", "v-2")


async def test_every_tier_unanswered_flags_the_alert_to_duty_staff(deployment: Deployment) -> None:
    deployment.tier1_timeout_s, deployment.tier2_timeout_s = 1, 1
    deployment.write_files()
    async with deployment.monitor():
        await deployment.press("btn-1")
        [to_staff] = await deployment.sandbox.wait_for_messages(1, to=STAFF, timeout=10)
    assert to_staff.body.startswith("【无人响应】")
    [alert] = deployment.alerts()
    assert alert["unanswered"] is True and alert["state"] == "open"


async def test_an_unreadable_reply_gets_one_help_text_and_changes_nothing(deployment: Deployment) -> None:
    async with deployment.monitor():
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(2)
        assert await deployment.sandbox.phone(TIER1[0]).reply("where is she?") == 200
        [help_text] = await deployment.sandbox.wait_for_messages(1, to=TIER1[0], body_contains="未能识别")
        assert await deployment.sandbox.phone(TIER1[0]).reply("hello??") == 200
        await deployment.sandbox.idle()
    assert "收到" in help_text.body
    assert len(deployment.sandbox.messages(to=TIER1[0])) == 2  # the alert and one help text, not two
    [alert] = deployment.alerts()
    assert alert["state"] == "open"


async def test_a_burst_is_committed_in_batches_in_the_order_it_arrived(deployment: Deployment) -> None:
    broker = deployment.broker
    # Heartbeats with a few presses among them: both kinds are kept, in the order they came.
    published = [
        ("callwatch/btn-1/event", {"type": "sos", "id": f"p{index}"})
        if index % 60 == 30
        else ("callwatch/btn-2/event", {"type": "heartbeat", "id": f"h{index}"})
        for index in range(300)
    ]
    async with deployment.monitor() as monitor, aiomqtt.Client(broker.host, broker.port) as device:
        for topic, event in published:
            await device.publish(topic, json.dumps(event), qos=1)

        async def all_stored() -> Sequence[bytes] | None:
            async with monitor.database.read() as session:
                payloads = (await session.scalars(select(DeviceMessage.payload).order_by(DeviceMessage.id))).all()
            return payloads if len(payloads) == len(published) else None

        stored = await until(all_stored, what="all 300 messages stored")
        text = monitor.metrics.render().decode()
    [transactions] = re.findall(r"^callwatch_ingest_batch_size_count (\S+)$", text, re.MULTILINE)
    assert float(transactions) < 300 / 2, f"{transactions} transactions for 300 messages"
    assert [json.loads(payload)["id"] for payload in stored] == [event["id"] for _, event in published]


async def test_the_monitor_reconnects_after_the_broker_restarts(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor:
        deployment.broker.restart()
        await until(lambda: not monitor.health.components["broker"].ok, what="the broker going away noticed")
        await deployment.wait_until_subscribed()
        await deployment.press("btn-1")
        messages = await deployment.sandbox.wait_for_messages(2)
    assert {message.to for message in messages} == set(TIER1)


async def test_only_those_asked_can_take_it_and_a_second_taker_is_told_who_has_it(deployment: Deployment) -> None:
    async with deployment.monitor():
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(2)
        [alert] = await deployment.wait_for_alerts(lambda alerts: len(alerts) == 1)
        # The leader was not asked yet (tier 2): naming the alert does not let them take it.
        assert await deployment.sandbox.phone(TIER2).reply(f"ACK {alert['id']}") == 200
        [not_yours] = await deployment.sandbox.wait_for_messages(1, to=TIER2)
        await deployment.wait_for_alerts(lambda alerts: alerts[0]["state"] == "open")
        assert await deployment.sandbox.phone(TIER1[0]).reply("收到") == 200
        assert await deployment.sandbox.phone(TIER1[1]).reply("ACK") == 200
        await deployment.sandbox.wait_for_messages(1, to=TIER1[1], body_contains="Li Ming has taken")
    assert "没有待处理的求助" in not_yours.body  # the leader writes zh (the default)
    [alert] = deployment.alerts()
    assert (alert["state"], alert["acknowledged_by"]) == ("acknowledged", "v-1")


async def test_pressing_again_is_confirmed_to_the_device_under_the_new_press_id(deployment: Deployment) -> None:
    """A resident who presses again while help is on its way sees that press confirmed too:
    the device matches feedback to its own press by event id, so it must carry the new one."""
    async with deployment.monitor(), FeedbackListener(deployment.broker) as feedback:
        await deployment.press("btn-2", event_id="first-press")
        await feedback.wait_for("received")
        await deployment.press("btn-2", event_id="second-press")
        await feedback.eventually(lambda payload, _topic: payload.get("event_id") == "second-press")
    [alert] = deployment.alerts()
    confirmations = [payload for _, payload in feedback.received if payload["state"] == "received"]
    assert [(payload["event_id"], payload["alert_id"]) for payload in confirmations] == [
        ("first-press", alert["id"]),
        ("second-press", alert["id"]),
    ]

"""The monitor's HTTP surface for operators and scripts: health, metrics, the JSON API."""

from __future__ import annotations

import httpx

from tests.support.deployment import TIER1, Deployment

TOKEN = {"Authorization": "Bearer test-api-token-0123456789"}


async def test_health_reports_each_component(deployment: Deployment) -> None:
    async with deployment.monitor(), httpx.AsyncClient(base_url=deployment.web_url) as client:
        answer = await client.get("/healthz")
    assert answer.status_code == 200
    report = answer.json()
    assert report["status"] == "ok"
    expected = {
        "broker": True,
        "database": True,
        "sms": True,
        "loops": True,  # the watchdog's view of ingest and escalation (monitor.runtime.watchdog)
    }
    if deployment.database_url.startswith("postgresql"):
        expected["monitors"] = True  # the monitors alive on this database (monitor.ingest.failover)
    assert {name: part["ok"] for name, part in report["components"].items()} == expected


async def test_metrics_count_messages_alerts_and_sms(deployment: Deployment) -> None:
    async with deployment.monitor(), httpx.AsyncClient(base_url=deployment.web_url) as client:
        await deployment.press("btn-1")
        await deployment.publish("callwatch/btn-1/event", b"not json")
        await deployment.sandbox.wait_for_messages(2)
        text = ""
        while 'callwatch_mqtt_messages_rejected_total{reason="malformed"} 1.0' not in text:
            text = (await client.get("/metrics")).text
    assert "callwatch_mqtt_messages_received_total 2.0" in text
    assert 'callwatch_alerts{state="open"} 1.0' in text
    assert "callwatch_sms_sent_total 2.0" in text
    assert "callwatch_escalation_lag_seconds_count" in text


async def test_api_needs_the_token_and_acts_on_behalf_of_a_volunteer(deployment: Deployment) -> None:
    async with deployment.monitor(), httpx.AsyncClient(base_url=deployment.web_url) as client:
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(2)
        assert (await client.get("/api/alerts")).status_code == 401
        assert (await client.get("/api/alerts", headers={"Authorization": "Bearer wrong"})).status_code == 401
        [alert] = (await client.get("/api/alerts", headers=TOKEN)).json()["alerts"]
        assert (await client.post(f"/api/alerts/{alert['id']}/ack", json={"volunteer_id": "v-1"})).status_code == 401

        taken = await client.post(f"/api/alerts/{alert['id']}/ack", headers=TOKEN, json={"volunteer_id": "v-1"})
        again = await client.post(f"/api/alerts/{alert['id']}/ack", headers=TOKEN, json={"volunteer_id": "v-2"})
        resolved = await client.post(
            f"/api/alerts/{alert['id']}/resolve",
            headers=TOKEN,
            json={"outcome": "false_alarm", "note": "pressed by mistake"},
        )
        told = await deployment.sandbox.wait_for_messages(1, to=TIER1[1], body_contains="Li Ming")
    assert taken.status_code == 200 and taken.json()["alert"]["acknowledged_by"] == "v-1"
    assert again.status_code == 409
    assert resolved.status_code == 200 and resolved.json()["alert"]["outcome"] == "false_alarm"
    assert told

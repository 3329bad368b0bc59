"""Several SMS providers (``[sms] providers``): an ask goes out through the first that is up, and
through the next within seconds when the first says it did not send it; never twice when the first
may have sent it. Replies come in through each; /healthz and /metrics show each provider's state;
the responder link goes only through a provider that carries links. The official twilio and
Alibaba Cloud clients against the SMS sandbox, real Mosquitto, SQLite and PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from monitor.runtime.duty_alarm import DutyAlarm
from monitor.store.database import Database
from monitor.store.models import InboundSms, Notification
from simulator.directory_entries import directory_file
from simulator.harness.deployment import aliyun_template_code, set_setting
from simulator.harness.dummy_modem import DummyModem
from simulator.load.directory import pressing_residents
from simulator.sandbox import WebhookKind
from tests.support.deployment import STAFF, TIER1, Deployment
from tests.support.waiting import until

LI_MING, ZHANG_WEI = TIER1
#: press -> ask through the second provider, on a loaded 2-core VM
WITHIN_S = 5.0
#: what callwatch has sent so far (statuses before the provider's answer is recorded)
SENDING = ("pending", "claimed", "unconfirmed")


@pytest.fixture
def modem(tmp_path: Path) -> Iterator[DummyModem]:
    """gammu-smsd on Gammu's dummy phone (``tests/system/test_modem_sms.py``)."""
    with DummyModem(tmp_path / "modem") as running:
        yield running


def on_providers(
    deployment: Deployment, *providers: str, modem: DummyModem | None = None, directory_extra: str = ""
) -> None:
    deployment.sms_providers = providers
    deployment.modem = modem
    deployment.write_files(directory_extra=directory_extra)


def requests_to(deployment: Deployment, phone: str, provider: str) -> int:
    return len([a for a in deployment.sandbox.create_attempts() if a.to == phone and a.provider == provider])


async def test_a_provider_answering_500_the_ask_goes_through_the_next_within_seconds_once(
    deployment: Deployment,
) -> None:
    on_providers(deployment, "aliyun", "sandbox")
    deployment.sandbox.faults.fail_next(None, status=500, provider="aliyun")  # Alibaba Cloud's API is down
    async with deployment.monitor() as monitor, httpx.AsyncClient(base_url=deployment.web_url) as web:
        started = time.monotonic()
        await deployment.press("btn-1")
        asks = await deployment.sandbox.wait_for_messages(2, timeout=10)

        async def provider_down() -> bool:
            components = (await web.get("/healthz")).json()["components"]
            return "sms:aliyun" in components and not components["sms:aliyun"]["ok"]

        await until(provider_down, what="aliyun down on /healthz")
        healthz = await web.get("/healthz")
        health = healthz.json()
        metrics = (await web.get("/metrics")).text
        await deployment.sandbox.idle()
        # the alert's timeline (console page and API) says which provider carried each ask
        api = {"Authorization": "Bearer test-api-token-0123456789"}
        timeline = (await web.get("/api/alerts/1", headers=api)).json()["timeline"]
        async with monitor.database.read() as session:
            rows = (await session.scalars(select(Notification).where(Notification.purpose == "alert"))).all()
    print(f"press -> ask through the second provider: {max(ask.arrived_monotonic for ask in asks) - started:.2f} s")
    assert {ask.to for ask in asks} == set(TIER1)
    assert all(ask.provider == "twilio" and ask.arrived_monotonic - started < WITHIN_S for ask in asks)
    assert [len(deployment.sandbox.messages(to=phone)) for phone in TIER1] == [1, 1]
    assert [requests_to(deployment, phone, "aliyun") for phone in TIER1] == [1, 1]  # refused once, then the next
    assert sorted((row.phone, row.provider) for row in rows) == sorted((phone, "sandbox") for phone in TIER1)
    assert [entry["provider"] for entry in timeline if entry["kind"] == "notified"] == ["sandbox", "sandbox"]
    # through Twilio's API the ask carries the responder link
    assert all(f"{deployment.web_url}/r/" in ask.body for ask in asks)
    components = health["components"]
    assert health["status"] == "degraded" and components["sms"]["ok"] and components["sms:sandbox"]["ok"]
    assert healthz.status_code == 200  # still does its job: a load balancer keeps it
    assert "failure 500" in components["sms:aliyun"]["detail"] and components["sms:aliyun"]["since"]
    assert 'callwatch_provider_up{channel="sms",provider="aliyun"} 0.0' in metrics
    assert 'callwatch_provider_up{channel="sms",provider="sandbox"} 1.0' in metrics
    assert 'callwatch_failovers_total{channel="sms",from_provider="aliyun",to_provider="sandbox"} 2.0' in metrics


async def test_a_provider_refusing_connections_hands_the_ask_on_without_the_responder_link(
    deployment: Deployment,
) -> None:
    on_providers(deployment, "sandbox", "aliyun")
    set_setting(deployment, "sms.sandbox", "api_base_url", '"http://127.0.0.1:9"')  # nothing listens there
    async with deployment.monitor() as monitor:
        started = time.monotonic()
        await deployment.press("btn-1")
        asks = await deployment.sandbox.wait_for_messages(2, timeout=10)
        await deployment.sandbox.idle()
        async with monitor.database.read() as session:
            rows = (await session.scalars(select(Notification).where(Notification.purpose == "alert"))).all()
    assert {ask.to for ask in asks} == set(TIER1)
    assert all(ask.provider == "aliyun" and ask.arrived_monotonic - started < WITHIN_S for ask in asks)
    assert [len(deployment.sandbox.messages(to=phone)) for phone in TIER1] == [1, 1]
    for ask, row in zip(sorted(asks, key=lambda a: a.to), sorted(rows, key=lambda r: r.phone), strict=True):
        # Alibaba Cloud carries no links: the ask went without it, and says what it needs to
        assert ask.template_code == aliyun_template_code("ask") and "/r/" not in ask.template_params["link"]
        assert ask.template_params["address"] == "12栋3单元201" and "/r/" not in ask.body
        assert row.provider == "aliyun" and "/r/" not in row.body and row.body_without_link is None
        assert "收到" in row.body or "ACK" in row.body


async def test_a_first_provider_that_timed_out_but_had_sent_the_ask_is_not_asked_through_the_next(
    deployment: Deployment,
) -> None:
    on_providers(deployment, "aliyun", "sandbox")
    set_setting(deployment, "sms.aliyun", "timeout_s", "0.5")
    # the SDK gives up at 0.5 s; Alibaba Cloud sends it at 1.5 s all the same
    deployment.sandbox.faults.slow_next(1, delay=1.5, to=LI_MING, provider="aliyun")
    async with deployment.monitor() as monitor:
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(1, to=LI_MING, timeout=10)

        async def settled() -> Notification | None:
            async with monitor.database.read() as session:
                row = await session.scalar(select(Notification).where(Notification.phone == LI_MING))
            return row if row is not None and row.status not in SENDING else None

        row = await until(settled, what="Li Ming's ask settled with QuerySendDetails", within_s=20)
        await deployment.sandbox.idle()
    [ask] = deployment.sandbox.messages(to=LI_MING)
    assert ask.provider == "aliyun" and requests_to(deployment, LI_MING, "twilio") == 0
    assert row.provider == "aliyun" and row.provider_id == f"out:{row.id}"


async def test_a_first_provider_that_timed_out_and_had_not_sent_the_ask_hands_it_to_the_next(
    deployment: Deployment,
) -> None:
    on_providers(deployment, "aliyun", "sandbox")
    set_setting(deployment, "sms.aliyun", "timeout_s", "0.5")
    deployment.sandbox.faults.hang_next(1, to=LI_MING, provider="aliyun")  # no answer, and nothing sent
    async with deployment.monitor():
        started = time.monotonic()
        await deployment.press("btn-1")
        # unknown after 0.5 s; QuerySendDetails has no such message a lease (2 s) later: the next provider
        [ask] = await deployment.sandbox.wait_for_messages(1, to=LI_MING, timeout=20)
        await deployment.sandbox.idle()
    assert ask.provider == "twilio" and len(deployment.sandbox.messages(to=LI_MING)) == 1
    assert requests_to(deployment, LI_MING, "aliyun") == 1
    print(f"press -> ask through the next provider, SendSms unanswered: {ask.arrived_monotonic - started:.2f} s")


async def test_sigkill_between_the_first_provider_s_refusal_and_the_next_s_answer_sends_each_ask_once(
    deployment: Deployment,
) -> None:
    on_providers(deployment, "aliyun", "sandbox")
    deployment.sandbox.faults.fail_next(None, status=500, provider="aliyun")
    # Through the next provider: Li Ming's ask is sent 1.5 s later (after the kill, before the
    # restarted monitor may ask Twilio about it); Zhang Wei's is never sent.
    deployment.sandbox.faults.slow_next(1, delay=1.5, to=LI_MING, provider="twilio")
    deployment.sandbox.faults.hang_next(1, to=ZHANG_WEI, provider="twilio")
    async with deployment.process() as monitor:
        await deployment.press("btn-1")
        await until(
            lambda: requests_to(deployment, LI_MING, "twilio") and requests_to(deployment, ZHANG_WEI, "twilio"),
            what="both asks refused by Alibaba Cloud and in flight at Twilio",
        )
        monitor.kill()
        await monitor.start()
        await deployment.sandbox.wait_for_messages(1, to=LI_MING, timeout=20)
        await deployment.sandbox.wait_for_messages(1, to=ZHANG_WEI, timeout=20)
        await deployment.sandbox.idle()
    assert [len(deployment.sandbox.messages(to=phone)) for phone in TIER1] == [1, 1]
    assert all(message.provider == "twilio" for message in deployment.sandbox.messages())
    # found at Twilio after the restart: not sent again; never sent: sent again, once, by the same provider
    assert (requests_to(deployment, LI_MING, "twilio"), requests_to(deployment, ZHANG_WEI, "twilio")) == (1, 2)


async def test_sigkill_while_an_ask_goes_straight_to_the_next_provider_sends_it_once(deployment: Deployment) -> None:
    """The first provider already down: a new ask's row names the next provider before its request."""
    on_providers(deployment, "aliyun", "sandbox")
    deployment.sandbox.faults.fail_next(None, status=500, provider="aliyun")
    async with deployment.process() as monitor, httpx.AsyncClient(base_url=deployment.web_url) as web:
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(2, timeout=10)

        async def provider_down() -> bool:
            return not (await web.get("/healthz")).json()["components"]["sms:aliyun"]["ok"]

        await until(provider_down, what="aliyun down on /healthz")
        refused = len([a for a in deployment.sandbox.create_attempts() if a.provider == "aliyun"])
        deployment.sandbox.faults.slow_next(1, delay=1.5, to=LI_MING, provider="twilio")
        deployment.sandbox.faults.hang_next(1, to=ZHANG_WEI, provider="twilio")
        await deployment.press("btn-2")
        await until(
            lambda: (
                requests_to(deployment, LI_MING, "twilio") == 2 and requests_to(deployment, ZHANG_WEI, "twilio") == 2
            ),
            what="both new asks in flight at Twilio",
        )
        monitor.kill()
        await monitor.start()
        await until(
            lambda: [len(deployment.sandbox.messages(to=phone)) for phone in TIER1] == [2, 2],
            what="each new ask delivered",
            within_s=20,
        )
        await deployment.sandbox.idle()
    assert [len(deployment.sandbox.messages(to=phone)) for phone in TIER1] == [2, 2]
    assert len([a for a in deployment.sandbox.create_attempts() if a.provider == "aliyun"]) == refused
    assert (requests_to(deployment, LI_MING, "twilio"), requests_to(deployment, ZHANG_WEI, "twilio")) == (2, 3)


async def test_replies_through_each_provider_are_accepted(deployment: Deployment) -> None:
    on_providers(deployment, "aliyun", "sandbox")
    # Zhang Wei's ask goes through Twilio's API (Alibaba Cloud refuses it), Li Ming's through Alibaba Cloud
    deployment.sandbox.faults.fail_next(None, status=500, to=ZHANG_WEI, provider="aliyun")
    async with deployment.monitor() as monitor:
        await deployment.press("btn-1")
        [li_ming_ask] = await deployment.sandbox.wait_for_messages(1, to=LI_MING, timeout=10)
        [zhang_wei_ask] = await deployment.sandbox.wait_for_messages(1, to=ZHANG_WEI, timeout=10)
        # each answers the way their ask came: an SmsUp push, a Twilio webhook
        assert await deployment.sandbox.phone(LI_MING).reply("不行") == 200
        assert await deployment.sandbox.phone(ZHANG_WEI).reply("收到") == 200
        await deployment.wait_for_alerts(lambda alerts: [alert["state"] for alert in alerts] == ["acknowledged"])
        async with monitor.database.read() as session:
            replies = {row.from_phone: row for row in (await session.scalars(select(InboundSms))).all()}
    assert (li_ming_ask.provider, zhang_wei_ask.provider) == ("aliyun", "twilio")
    assert replies[LI_MING].provider_id.startswith("smsup-") and replies[LI_MING].outcome == "declined"
    assert replies[ZHANG_WEI].provider_id.startswith("SM") and replies[ZHANG_WEI].outcome == "acknowledged"
    assert deployment.sandbox.webhooks(kind=WebhookKind.SMS_UP) and deployment.sandbox.webhooks(
        kind=WebhookKind.INBOUND_SMS
    )
    [alert] = deployment.alerts()
    assert alert["acknowledged_by"] == replies[ZHANG_WEI].volunteer_id


async def test_alibaba_cloud_answering_500_the_ask_goes_out_through_the_modem_within_seconds_once(
    deployment: Deployment, modem: DummyModem
) -> None:
    on_providers(deployment, "aliyun", "modem", modem=modem)
    deployment.sandbox.faults.fail_next(None, status=500, provider="aliyun")
    async with deployment.monitor() as monitor:
        started = time.monotonic()
        await deployment.press("btn-1")
        await until(lambda: len(modem.sent()) == 2, what="both asks sent by gammu-smsd", within_s=15)
        carried = time.monotonic() - started
        async with monitor.database.read() as session:
            rows = (await session.scalars(select(Notification).where(Notification.purpose == "alert"))).all()
    print(f"press -> both asks sent by the modem after Alibaba Cloud's 500: {carried:.2f} s")
    assert sorted(sms.to for sms in modem.sent()) == sorted(TIER1) and deployment.sandbox.messages() == []
    assert [requests_to(deployment, phone, "aliyun") for phone in TIER1] == [1, 1]
    assert {row.provider for row in rows} == {"modem"}
    # gammu-smsd's own polling (a second on the dummy phone) is most of it
    assert carried < WITHIN_S


async def test_an_ask_moved_from_twilio_to_the_modem_goes_without_the_responder_link(
    deployment: Deployment, modem: DummyModem
) -> None:
    on_providers(deployment, "sandbox", "modem", modem=modem)
    set_setting(deployment, "sms.sandbox", "api_base_url", '"http://127.0.0.1:9"')  # Twilio unreachable
    async with deployment.monitor():
        await deployment.press("btn-1")
        await until(lambda: len(modem.sent()) == 2, what="both asks sent by gammu-smsd", within_s=15)
        [alert] = await deployment.wait_for_alerts(lambda alerts: len(alerts) == 1)
    [chinese] = [sms for sms in modem.sent() if sms.to == LI_MING]
    # made with a link for Twilio; the modem carries none: the ask says everything without it
    assert "/r/" not in chinese.text and "王秀英" in chinese.text and f"收到 {alert['id']}" in chinese.text


async def test_the_duty_alarm_goes_through_the_next_provider_with_and_without_the_database(
    deployment: Deployment,
) -> None:
    on_providers(deployment, "aliyun", "sandbox")
    deployment.sandbox.faults.fail_next(None, status=500, provider="aliyun")
    async with deployment.monitor() as monitor:
        alarm = DutyAlarm(
            monitor.database,
            monitor.outbox,
            monitor.clock,
            instance_id="failover-test",
            after_commit=monitor.after_commit,
        )
        await alarm.learn_staff()
        await alarm.raise_alarm("mqtt-ingest", 90)  # a row, sent by the outbox
        [queued] = await deployment.sandbox.wait_for_messages(1, to=STAFF, timeout=10)
        # A stalled loop because the database does not answer: straight to the providers, those up first
        alarm.database = Database(deployment.database_url)  # never opened: every transaction fails
        await alarm.raise_alarm("escalation", 90)
        direct = await deployment.sandbox.wait_for_messages(2, to=STAFF, timeout=10)
    assert queued.provider == "twilio" and "系统故障" in queued.body
    assert [message.provider for message in direct] == ["twilio", "twilio"]
    # Alibaba Cloud (first, and one failure from down) refused each way once; Twilio's API carried both
    assert requests_to(deployment, STAFF, "aliyun") == 2


async def test_fifty_asks_while_the_first_provider_is_down_each_go_out_once_through_the_next(
    deployment: Deployment,
) -> None:
    devices = [f"btn-q{index:02d}" for index in range(25)]
    extra = directory_file(*pressing_residents(devices, "a-1"))
    on_providers(deployment, "aliyun", "sandbox", directory_extra=extra)
    deployment.sandbox.faults.fail_next(None, status=500, provider="aliyun")
    pressed_at: dict[str, float] = {}
    async with deployment.monitor():
        for device in devices:  # one at a time: latency, not queueing
            pressed_at[device] = time.monotonic()
            await deployment.press(device)
            await deployment.sandbox.wait_for_messages(2, body_contains=device, timeout=10)
        await deployment.sandbox.idle()
    waits = sorted(
        message.arrived_monotonic - pressed_at[device]
        for device in devices
        for message in deployment.sandbox.messages()
        if device in message.body
    )
    p50, p99 = waits[len(waits) // 2], waits[min(len(waits) - 1, round(len(waits) * 0.99))]
    backend = deployment.database_url.split("+")[0]
    print(f"{backend}: press -> ask through the next provider, {len(waits)} asks: p50 {p50:.3f} s, p99 {p99:.3f} s")
    assert len(waits) == 50 and {message.provider for message in deployment.sandbox.messages()} == {"twilio"}
    # refused twice (then marked down): the other 48 asks went straight to the next provider
    assert len([a for a in deployment.sandbox.create_attempts() if a.provider == "aliyun"]) == 2
    assert p99 < WITHIN_S

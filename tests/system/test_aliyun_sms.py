"""SMS through Alibaba Cloud (阿里云短信服务): the official SDK sends approved templates with their
parameters to the sandbox's copy of the SMS API (signature checked), and volunteers' replies come
back as SmsUp pushes; real Mosquitto, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import time

import httpx
from sqlalchemy import func, select

from monitor.notify.sms.aliyun_texts import TEMPLATE_TEXTS
from monitor.store.models import AlertEvent, InboundSms, Notification
from simulator.harness.deployment import ALIYUN_SIGN_NAME, aliyun_template_code
from simulator.sandbox import Outcome, WebhookKind
from tests.support.deployment import TIER1, TIER2, Deployment
from tests.support.waiting import until

LI_MING, ZHANG_WEI = TIER1
#: what a reply applied twice would add to: the alert's log, and messages to send
COUNTED = (AlertEvent, Notification)


def on_aliyun(deployment: Deployment) -> None:
    deployment.sms_provider = "aliyun"
    deployment.write_files()


async def test_an_sos_asks_by_template_and_a_reply_pushed_as_smsup_takes_it(deployment: Deployment) -> None:
    on_aliyun(deployment)
    deployment.sandbox.phone(LI_MING).replies_with("收到", delay=0.2, pattern=aliyun_template_code("ask"))
    async with deployment.monitor() as monitor:
        await deployment.press("btn-1")
        asks = await deployment.sandbox.wait_for_messages(2)
        await deployment.wait_for_alerts(lambda alerts: [alert["state"] for alert in alerts] == ["acknowledged"])
        [taken] = await deployment.sandbox.wait_for_messages(1, to=ZHANG_WEI, body_contains="taker=")
        [push] = deployment.sandbox.webhooks(kind=WebhookKind.SMS_UP)
        async with monitor.database.read() as session:
            reply = await session.scalar(select(InboundSms))
        async with httpx.AsyncClient() as http:
            page = (await http.get(deployment.sandbox.page_url)).text
    [alert] = deployment.alerts()
    assert {ask.to for ask in asks} == set(TIER1)
    # the phone page says which provider carried each message, and shows the pushed reply
    assert "via aliyun" in page and "via twilio" not in page and ">收到</td>" in page
    for ask in asks:
        assert (ask.provider, ask.sign_name) == ("aliyun", ALIYUN_SIGN_NAME)
        assert ask.template_code == aliyun_template_code("ask")
        params = ask.template_params
        assert (params["code"], params["resident"], params["address"]) == (str(alert["id"]), "王秀英", "12栋3单元201")
        assert params["kind"] in ("紧急求助", "SOS") and params["when"].count(":") == 1
    assert taken.template_code == aliyun_template_code("taken") and taken.template_params["taker"] == "Li Ming"
    assert (alert["state"], alert["acknowledged_by"]) == ("acknowledged", "v-1")
    assert push.answered_status == 200 and push.params["phone_number"] == LI_MING.removeprefix("+86")
    assert reply is not None and (reply.provider_id, reply.volunteer_id) == (
        f"smsup-{push.params['sequence_id']}",
        "v-1",
    )


async def test_a_retried_push_with_the_same_sequence_id_changes_nothing(deployment: Deployment) -> None:
    on_aliyun(deployment)
    deployment.sandbox.phone(LI_MING).replies_with("收到", delay=0.2, pattern=aliyun_template_code("ask"))
    async with deployment.monitor() as monitor, httpx.AsyncClient() as client:
        await deployment.press("btn-1")
        await deployment.wait_for_alerts(lambda alerts: [alert["state"] for alert in alerts] == ["acknowledged"])
        [push] = deployment.sandbox.webhooks(kind=WebhookKind.SMS_UP)
        confirmation = aliyun_template_code("ack_confirmation")
        await deployment.sandbox.wait_for_messages(1, to=LI_MING, body_contains=confirmation)
        async with monitor.database.read() as session:
            before = [await session.scalar(select(func.count()).select_from(table)) for table in COUNTED]
        # The provider pushes again when it missed our answer: the reply is the same one, by sequence_id.
        again = await client.post(push.url, json=[push.params])
        async with monitor.database.read() as session:
            after = [await session.scalar(select(func.count()).select_from(table)) for table in COUNTED]
            replies = await session.scalar(select(func.count()).select_from(InboundSms))
    assert again.status_code == 200 and again.json()["code"] == 0
    assert after == before and replies == 1
    [alert] = deployment.alerts()
    assert (alert["state"], alert["acknowledged_by"]) == ("acknowledged", "v-1")


async def test_a_push_without_the_token_is_refused_and_changes_nothing(deployment: Deployment) -> None:
    on_aliyun(deployment)
    forged = [
        {
            "phone_number": LI_MING.removeprefix("+86"),
            "content": "收到",
            "send_time": "2026-12-07 19:00:00",
            "dest_code": "1234",
            "sequence_id": "99",
        }
    ]
    async with deployment.monitor() as monitor, httpx.AsyncClient() as client:
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(2)
        wrong = await client.post(f"{deployment.web_url}/aliyun/sms-up/not-the-token-0123456789", json=forged)
        bare = await client.post(f"{deployment.web_url}/aliyun/sms-up/", json=forged)
        async with monitor.database.read() as session:
            replies = await session.scalar(select(func.count()).select_from(InboundSms))
    assert wrong.status_code == 403 and bare.status_code in (403, 404, 405)
    assert replies == 0
    [alert] = deployment.alerts()
    assert alert["state"] == "open"


def test_check_config_refuses_a_purpose_without_a_template_in_one_sentence(deployment: Deployment) -> None:
    on_aliyun(deployment)
    text = deployment.config_path.read_text(encoding="utf-8")
    without = "\n".join(line for line in text.splitlines() if not line.startswith("reminder = "))
    deployment.config_path.write_text(without, encoding="utf-8")
    result = deployment.cli("check-config", str(deployment.config_path))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [sentence] = result.stderr.strip().splitlines()
    assert str(deployment.config_path) in sentence
    assert "[sms.aliyun.templates] has no template for 'reminder'" in sentence and "reminder = {" in sentence


def test_check_config_shows_each_template_s_parameters_against_the_limit(deployment: Deployment) -> None:
    on_aliyun(deployment)
    long_address = "幸福路" + "8" * 40 + "号"
    text = deployment.directory_path.read_text(encoding="utf-8").replace("12栋3单元201", long_address)
    deployment.directory_path.write_text(text, encoding="utf-8")
    result = deployment.cli("check-config", str(deployment.config_path))
    assert result.returncode == 0, result.stderr
    [ask] = [line for line in result.stdout.splitlines() if line.strip().startswith("ask ")]
    assert aliyun_template_code("ask") in ask and re.search(r"resident \d+/35,", ask)
    assert f"address {len(long_address)}/35 too long, cut" in ask
    assert "at most 35 characters" in result.stdout
    assert json.dumps(ALIYUN_SIGN_NAME, ensure_ascii=False).strip('"') in result.stdout


async def test_an_smsreport_failure_moves_the_tier_on_as_an_undelivered_twilio_sms_does(
    deployment: Deployment,
) -> None:
    deployment.tier1_timeout_s = 60
    on_aliyun(deployment)
    for phone in TIER1:
        deployment.sandbox.outcomes.set(phone, Outcome.undelivered(30003))
    async with deployment.monitor():
        started = time.monotonic()
        await deployment.press("btn-1")
        [tier2] = await deployment.sandbox.wait_for_messages(1, to=TIER2, timeout=10)
        reports = deployment.sandbox.webhooks(kind=WebhookKind.SMS_REPORT)
    assert tier2.arrived_monotonic - started < 5, "tier 2 should not wait out tier 1's 60 s timeout"
    assert tier2.template_code == aliyun_template_code("ask")
    failed = [report for report in reports if report.params["success"] == "False"]
    assert {report.params["phone_number"] for report in failed} == {phone.removeprefix("+86") for phone in TIER1}
    assert all(report.answered_status == 200 for report in reports)


async def test_sigkill_while_sendsms_is_in_flight_sends_each_ask_exactly_once(deployment: Deployment) -> None:
    on_aliyun(deployment)
    # Li Ming's SendSms is sent at the provider 1.5 s later (after the kill, before the restarted
    # monitor may ask: not before the 2 s claim lease has run out); Zhang Wei's never is.
    deployment.sandbox.faults.slow_next(1, delay=1.5, to=LI_MING)
    deployment.sandbox.faults.hang_next(1, to=ZHANG_WEI)

    def requests_to(phone: str) -> int:
        return len([attempt for attempt in deployment.sandbox.create_attempts() if attempt.to == phone])

    async with deployment.process() as monitor:
        await deployment.press("btn-1")
        await until(lambda: requests_to(LI_MING) and requests_to(ZHANG_WEI), what="both SendSms in flight")
        monitor.kill()
        await monitor.start()
        await deployment.sandbox.wait_for_messages(1, to=LI_MING, timeout=20)
        await deployment.sandbox.wait_for_messages(1, to=ZHANG_WEI, timeout=20)
        await deployment.sandbox.idle()
    assert [len(deployment.sandbox.messages(to=phone)) for phone in TIER1] == [1, 1]
    # found by its OutId with QuerySendDetails: not asked again; never sent: asked again, once
    assert (requests_to(LI_MING), requests_to(ZHANG_WEI)) == (1, 2)


async def test_the_sandbox_shows_approved_templates_filled_and_refuses_a_code_not_approved(
    deployment: Deployment,
) -> None:
    on_aliyun(deployment)
    # The account has every template of docs/providers.md approved but the one for "taken".
    deployment.sandbox.approve_aliyun_templates(
        {aliyun_template_code(purpose): texts["zh"] for purpose, texts in TEMPLATE_TEXTS.items() if purpose != "taken"}
    )
    deployment.sandbox.phone(LI_MING).replies_with("收到", delay=0.2, pattern="王秀英.*回复“收到")

    async def taken_notice() -> Notification | None:
        async with monitor.database.read() as session:
            return await session.scalar(
                select(Notification).where(Notification.template == "taken", Notification.status == "rejected")
            )

    async with deployment.monitor() as monitor:
        await deployment.press("btn-1")
        asks = await deployment.sandbox.wait_for_messages(2)
        await deployment.wait_for_alerts(lambda alerts: [alert["state"] for alert in alerts] == ["acknowledged"])
        refused = await until(taken_notice, what="the taken notice refused")
    [alert] = deployment.alerts()
    for ask in asks:
        assert ask.body.startswith(f"【{ALIYUN_SIGN_NAME}】") and "王秀英（" in ask.body
        assert f"回复“收到 {alert['id']}”接手" in ask.body and "${" not in ask.body
    assert refused.phone == ZHANG_WEI and (refused.error_code or "").startswith("isv.SMS_TEMPLA")

"""Calling the volunteer who sleeps through an SMS: the real twilio client places calls at the
phone sandbox, whose phones fetch the monitor's TwiML (signed), hear it and press keys; real
Mosquitto, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

import httpx
from sqlalchemy import func, select

from monitor.notify.voice.paths import GATHER_PATH, STATUS_PATH, TWIML_PATH
from monitor.runtime.duty_alarm import DutyAlarm
from monitor.store.database import Database
from monitor.store.models import AlertEvent, InboundSms, Notification
from simulator.directory_entries import TomlValue
from simulator.sandbox import CallScript, WebhookKind
from simulator.sandbox.signing import SIGNATURE_HEADER
from tests.support.deployment import STAFF, TIER1, TIER2, Deployment
from tests.support.waiting import until
from tests.web.support import ConsoleClient, add_user

LI_MING, ZHANG_WEI = TIER1
VOICE_ON: dict[str, TomlValue] = {"enabled": True, "ring_timeout_s": 5, "key_wait_s": 2}


def calling(deployment: Deployment, *tiers: Mapping[str, TomlValue], voice: Mapping[str, TomlValue] = VOICE_ON) -> None:
    """Calls on, and the tiers' keys, first tier first (``channels``, ``call_after_s``)."""
    deployment.voice = voice
    deployment.tier_keys = tiers
    deployment.write_files()


BOTH = {"channels": ["sms", "voice"]}


async def alert_log(database: Database) -> list[str]:
    async with database.read() as session:
        return list((await session.scalars(select(AlertEvent.detail).order_by(AlertEvent.id))).all())


async def voice_rows(database: Database) -> list[Notification]:
    async with database.read() as session:
        rows = await session.scalars(select(Notification).where(Notification.channel == "voice"))
        return list(rows.all())


def call_requests(deployment: Deployment, phone: str) -> int:
    """Call requests to ``phone`` at the sandbox, answered or not (a message's carries a body)."""
    return sum(attempt.to == phone and attempt.body is None for attempt in deployment.sandbox.create_attempts())


async def test_a_tier_that_calls_rings_and_texts_and_key_1_takes_it(deployment: Deployment) -> None:
    calling(deployment, BOTH)
    deployment.sandbox.script_calls(LI_MING, CallScript.answers(after=0.3, press="1"))
    deployment.sandbox.script_calls(ZHANG_WEI, CallScript.never_answers(ring=4))
    async with deployment.monitor() as monitor, ConsoleClient(deployment.web_url) as console:
        await add_user(monitor, "duty")
        await console.sign_in("duty")
        await deployment.press("btn-1")
        asks = await deployment.sandbox.wait_for_messages(2)
        [call] = await deployment.sandbox.wait_for_calls(1, to=LI_MING, ended=True)
        [taken] = await deployment.sandbox.wait_for_messages(1, to=ZHANG_WEI, body_contains="Li Ming")
        log = await alert_log(monitor.database)
        async with monitor.database.read() as session:
            key = await session.scalar(select(InboundSms))
        assert key is not None
        timeline = (await console.http.get(f"/alerts/{key.alert_id}")).text
    assert {message.to for message in asks} == set(TIER1)
    assert call.answered_by == "human" and call.keys == ["1"] and call.status == "completed"
    asked, *_ = call.heard
    assert "王秀英" in asked and "12栋3单元201" in asked and "接手请按1" in asked
    assert "由您接手" in call.heard[-1]  # told it is theirs, in Li Ming's language
    assert "王秀英" in taken.body
    [alert] = deployment.alerts()
    assert (alert["state"], alert["acknowledged_by"]) == ("acknowledged", "v-1")
    assert "Li Ming pressed 1 on the call: acknowledged" in log
    assert key is not None and (key.provider_id, key.volunteer_id, key.outcome) == (call.sid, "v-1", "acknowledged")
    assert len(deployment.sandbox.calls(to=LI_MING)) == 1
    assert "key pressed on a call by Li Ming" in timeline and "voice to Li Ming" in timeline
    today = deployment.today()
    report = deployment.cli("report", "--config", str(deployment.config_path), "--from", today, "--to", today)
    assert "asks by channel: sms 2, voice 2" in report.stdout and "taken by: voice 1" in report.stdout


async def test_call_after_s_calls_only_when_the_sms_went_unanswered(deployment: Deployment) -> None:
    calling(deployment, {"call_after_s": 5})
    async with deployment.monitor():
        pressed = time.monotonic()
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(2)
        assert deployment.sandbox.calls() == []
        calls = await deployment.sandbox.wait_for_calls(2, timeout=10)
    assert {call.to for call in calls} == set(TIER1)
    # Not before call_after_s; the outbox looks for due rows every second (more under a loaded machine).
    assert all(5.0 <= call.arrived_monotonic - pressed < 10.0 for call in calls)


async def test_an_sms_ack_before_call_after_s_means_nobody_is_called(deployment: Deployment) -> None:
    calling(deployment, {"call_after_s": 5})
    deployment.sandbox.phone(LI_MING).replies_with("收到", delay=0.2)
    async with deployment.monitor():
        pressed = time.monotonic()
        await deployment.press("btn-1")
        await deployment.wait_for_alerts(lambda alerts: [alert["state"] for alert in alerts] == ["acknowledged"])
        await asyncio.sleep(max(0.0, pressed + 5 + 1.5 - time.monotonic()))  # past when the calls were due
    assert deployment.sandbox.calls() == []


async def test_busy_and_voicemail_are_not_reached_and_the_next_tier_is_asked_at_once(deployment: Deployment) -> None:
    calling(deployment, BOTH)
    deployment.sandbox.script_calls(LI_MING, CallScript.busy())
    deployment.sandbox.script_calls(ZHANG_WEI, CallScript.voicemail(after=0.2))
    async with deployment.monitor() as monitor, ConsoleClient(deployment.web_url) as console:
        await add_user(monitor, "duty")
        await console.sign_in("duty")
        pressed = time.monotonic()
        await deployment.press("btn-1")
        [leader] = await deployment.sandbox.wait_for_messages(1, to=TIER2, timeout=10)
        rows = await voice_rows(monitor.database)
        log = await alert_log(monitor.database)
        board = (await console.http.get("/board/rows")).text
    assert leader.arrived_monotonic - pressed < 5.0  # tier 1 waits 30 s for an answer
    assert sorted((row.phone, row.status, row.error_code) for row in rows) == [
        (LI_MING, "undelivered", "busy"),
        (ZHANG_WEI, "undelivered", "machine"),
    ]
    [voicemail] = deployment.sandbox.calls(to=ZHANG_WEI)
    assert voicemail.answered_by == "machine_start" and voicemail.heard == []  # no message left
    assert "nobody asked in tier 1 could be reached" in log
    assert board.count("sms-undelivered channel-voice") == 2  # both calls shown as not reached


async def test_phones_that_never_answer_are_not_reached(deployment: Deployment) -> None:
    calling(deployment, BOTH)
    for phone in TIER1:
        deployment.sandbox.script_calls(phone, CallScript.never_answers(ring=1))
    async with deployment.monitor() as monitor:
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(1, to=TIER2, timeout=10)
        rows = await voice_rows(monitor.database)
    assert sorted((row.phone, row.error_code) for row in rows) == [(LI_MING, "no-answer"), (ZHANG_WEI, "no-answer")]


async def test_key_2_hands_the_alert_on_and_key_9_repeats(deployment: Deployment) -> None:
    calling(deployment, BOTH, BOTH)
    deployment.sandbox.script_calls(LI_MING, CallScript.answers(press="2"))
    deployment.sandbox.script_calls(ZHANG_WEI, CallScript.never_answers(ring=4))
    deployment.sandbox.script_calls(TIER2, CallScript.answers(press="91"))
    async with deployment.monitor() as monitor:
        await deployment.press("btn-1")
        [declined] = await deployment.sandbox.wait_for_calls(1, to=LI_MING, ended=True)
        [leader] = await deployment.sandbox.wait_for_calls(1, to=TIER2, ended=True, timeout=10)
        log = await alert_log(monitor.database)
    assert declined.keys == ["2"] and "转给其他人" in declined.heard[-1]
    assert "Li Ming pressed 2 on the call: declined" in log
    assert leader.keys == ["9", "1"]
    asked = leader.heard[0]
    assert leader.heard[:4] == [asked] * 4  # said twice, and twice again after 9
    [alert] = deployment.alerts()
    assert (alert["state"], alert["acknowledged_by"], alert["tier"]) == ("acknowledged", "v-9", 2)


async def test_a_key_pressed_after_someone_took_it_hears_who_and_changes_nothing(deployment: Deployment) -> None:
    calling(deployment, BOTH)
    deployment.sandbox.script_calls(ZHANG_WEI, CallScript.by_hand(after=0))
    # Calls start a second apart ([voice] calls_per_s = 1): Zhang Wei listens before Li Ming answers.
    deployment.sandbox.script_calls(LI_MING, CallScript.answers(after=2.5, press="1"))
    async with deployment.monitor() as monitor:
        await deployment.press("btn-1")
        [listening] = await deployment.sandbox.wait_for_calls(1, to=ZHANG_WEI)
        await until(lambda: deployment.sandbox.waiting_for_key(listening.sid), what="Zhang Wei listening")
        await deployment.wait_for_alerts(lambda alerts: alerts[0]["acknowledged_by"] == "v-1")
        assert deployment.sandbox.press_key(listening.sid, "1")
        [late] = await deployment.sandbox.wait_for_calls(1, to=ZHANG_WEI, ended=True)
        log = await alert_log(monitor.database)
    assert late.keys == ["1"] and "already taken by Li Ming" in late.heard[-1]  # in Zhang Wei's English
    [alert] = deployment.alerts()
    assert (alert["state"], alert["acknowledged_by"]) == ("acknowledged", "v-1")
    assert "Zhang Wei pressed 1 on the call: already_taken" in log
    assert sum("pressed 1 on the call: acknowledged" in entry for entry in log) == 1


async def test_forged_or_unsigned_call_requests_are_refused_and_a_replay_changes_nothing(
    deployment: Deployment,
) -> None:
    calling(deployment, BOTH)
    deployment.sandbox.script_calls(LI_MING, CallScript.by_hand(after=0))  # listens until the test presses 1
    deployment.sandbox.script_calls(ZHANG_WEI, CallScript.never_answers(ring=4))
    async with deployment.monitor() as monitor, httpx.AsyncClient(base_url=deployment.web_url) as web:
        await deployment.press("btn-1")
        [ringing] = await deployment.sandbox.wait_for_calls(1, to=LI_MING)
        await until(lambda: deployment.sandbox.waiting_for_key(ringing.sid), what="Li Ming listening")
        [row] = [row for row in await voice_rows(monitor.database) if row.phone == LI_MING]
        key = {"CallSid": ringing.sid, "From": ringing.from_, "To": LI_MING, "Digits": "1"}
        refused = [
            await web.post(f"{path}?notification={row.id}", data=key, headers=headers)
            for path in (TWIML_PATH, GATHER_PATH, STATUS_PATH)
            for headers in ({}, {SIGNATURE_HEADER: "Zm9yZ2Vk"})
        ]
        still_open = await deployment.wait_for_alerts(lambda alerts: alerts[0]["state"] == "open")
        assert deployment.sandbox.press_key(ringing.sid, "1")
        await deployment.sandbox.wait_for_calls(1, to=LI_MING, ended=True)
        [gathered] = [
            delivery
            for delivery in deployment.sandbox.webhooks(kind=WebhookKind.CALL_TWIML)
            if delivery.params.get("Digits") == "1"
        ]
        replayed = await web.post(gathered.url, data=gathered.params, headers={SIGNATURE_HEADER: gathered.signature})
        metrics = monitor.metrics.render().decode()
        async with monitor.database.read() as session:
            keys = await session.scalar(select(func.count()).select_from(InboundSms))
        log = await alert_log(monitor.database)
    assert [response.status_code for response in refused] == [403] * 6
    assert still_open[0]["acknowledged_by"] is None
    assert replayed.status_code == 200 and "由您接手" in replayed.text  # told again, nothing done again
    assert keys == 1 and sum("pressed 1 on the call:" in entry for entry in log) == 1
    assert 'callwatch_call_keys_total{outcome="forged"} 6.0' in metrics
    assert 'callwatch_call_keys_total{outcome="replay"} 1.0' in metrics


async def test_unanswered_alarm_calls_duty_staff_when_configured(deployment: Deployment) -> None:
    deployment.tier1_timeout_s, deployment.tier2_timeout_s = 1, 1
    calling(deployment, voice={**VOICE_ON, "duty_calls": True})
    deployment.sandbox.script_calls(STAFF, CallScript.answers(press="1"))
    async with deployment.monitor():
        await deployment.press("btn-1")
        [call] = await deployment.sandbox.wait_for_calls(1, to=STAFF, ended=True, timeout=10)
        await deployment.sandbox.wait_for_messages(1, to=STAFF)
    assert deployment.sandbox.calls(to=LI_MING) == []  # the tiers themselves only text
    assert call.keys == ["1"]
    [alert] = deployment.alerts()
    assert (alert["state"], alert["acknowledged_by"]) == ("acknowledged", "duty-1")


async def test_the_watchdogs_alarm_calls_duty_staff_when_configured(deployment: Deployment) -> None:
    calling(deployment, voice={**VOICE_ON, "duty_calls": True})
    deployment.sandbox.script_calls(STAFF, CallScript.answers())
    async with deployment.monitor() as monitor:
        alarm = DutyAlarm(
            monitor.database,
            monitor.outbox,
            monitor.clock,
            instance_id="voice-test",
            after_commit=monitor.after_commit,
            channels=("sms", "voice"),
        )
        await alarm.raise_alarm("mqtt-ingest", 90)
        [sms] = await deployment.sandbox.wait_for_messages(1, to=STAFF)
        [call] = await deployment.sandbox.wait_for_calls(1, to=STAFF, ended=True)
    assert call.heard == [sms.body]  # said, then the call hangs up: there is no alert to take
    assert "系统故障" in sms.body


async def test_a_call_claimed_before_a_crash_rings_the_phone_once(deployment: Deployment) -> None:
    """SIGKILL while Twilio has not answered the call request yet; after the restart the monitor
    finds the call at Twilio (calls to that number since the claim) instead of calling again."""
    calling(deployment, BOTH)
    deployment.sandbox.faults.slow_next(1, delay=3, to=LI_MING, resource="Calls")
    for phone in TIER1:
        deployment.sandbox.script_calls(phone, CallScript.never_answers(ring=1))
    async with deployment.process() as process:
        await deployment.press("btn-1")
        await until(lambda: call_requests(deployment, LI_MING), what="the call request at the sandbox")
        process.kill()
        [call] = await deployment.sandbox.wait_for_calls(1, to=LI_MING, timeout=10)
        await process.start()
        async with Database(deployment.database_url) as database:

            async def recorded() -> bool | None:
                return any(row.provider_id == call.sid for row in await voice_rows(database)) or None

            await until(recorded, what="the call found at the provider and recorded")
    assert len(deployment.sandbox.calls(to=LI_MING)) == 1
    assert call_requests(deployment, LI_MING) == 1

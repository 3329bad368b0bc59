"""Whom escalation calls and when: tiers that call (``channels``, ``call_after_s``) and volunteers'
``voice`` and ``voice_hours``; the calls are notification rows like SMS (no timer of their own)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from monitor.notify.requests import SMS, VOICE, NotificationStatus
from monitor.store.models import Volunteer
from tests.escalation.kit import World, world
from tests.oncall.kit import CHEN_JING, LI_MING, ZHANG_WEI

SMS_AND_VOICE = """
[[policies]]
id = "default"
tiers = [
  { notify = ["area"], ack_timeout_s = 60, channels = ["sms", "voice"] },
  { notify = ["role:leader"], ack_timeout_s = 60, channels = ["sms", "voice"] },
]
"""
CALL_AFTER_30 = """
[[policies]]
id = "default"
tiers = [
  { notify = ["area"], ack_timeout_s = 60, call_after_s = 30 },
  { notify = ["role:leader"], ack_timeout_s = 60 },
]
"""


async def prefer(w: World, volunteer_id: str, *, voice: bool = True, voice_hours: str | None = None) -> None:
    """What the directory says of the volunteer's calls (as ``callwatch`` imports it)."""
    async with w.database.write() as session:
        await session.execute(
            update(Volunteer).where(Volunteer.id == volunteer_id).values(voice=voice, voice_hours=voice_hours)
        )


async def test_a_tier_that_calls_texts_and_calls_each_person_at_once(database_url: str) -> None:
    async with world(database_url, policies=SMS_AND_VOICE, channels=(SMS, VOICE)) as w:
        alert_id = await w.raise_sos()
        asks = await w.asks(alert_id)
    assert sorted((row.phone, row.channel, row.status) for row in asks) == [
        (LI_MING, SMS, "claimed"),
        (LI_MING, VOICE, "claimed"),
        (ZHANG_WEI, SMS, "claimed"),
        (ZHANG_WEI, VOICE, "claimed"),
    ]
    assert {row.dedupe_key for row in asks if row.channel == VOICE} == {
        f"{alert_id}:alert:0:0:{LI_MING}:voice",
        f"{alert_id}:alert:0:0:{ZHANG_WEI}:voice",
    }


async def test_nobody_is_called_against_voice_false_or_outside_their_voice_hours(database_url: str) -> None:
    async with world(database_url, policies=SMS_AND_VOICE, channels=(SMS, VOICE)) as w:
        await prefer(w, "v-1", voice_hours="22:00-07:00")  # it is 19:00 in Shanghai
        await prefer(w, "v-2", voice=False)
        alert_id = await w.raise_sos()
        evening = await w.asks(alert_id)
        w.clock.advance(hours=3)  # 22:00: Li Ming may be called now
        night_alert = await w.raise_sos("r-3", "btn-3")
        night = await w.asks(night_alert)
    assert sorted((row.phone, row.channel) for row in evening) == [(LI_MING, SMS), (ZHANG_WEI, SMS)]
    assert (LI_MING, VOICE) in {(row.phone, row.channel) for row in night}
    assert (ZHANG_WEI, VOICE) not in {(row.phone, row.channel) for row in night}


async def test_call_after_s_queues_calls_waiting_and_an_answer_cancels_them(database_url: str) -> None:
    async with world(database_url, policies=CALL_AFTER_30, channels=(SMS, VOICE)) as w:
        raised_at = w.clock.now()
        alert_id = await w.raise_sos()
        calls = [row for row in await w.asks(alert_id) if row.channel == VOICE]
        await w.reply(LI_MING, "NO")  # declines by SMS: no call for him
        after_no = {row.phone: row.status for row in await w.asks(alert_id) if row.channel == VOICE}
        await w.reply(CHEN_JING, "ACK")  # tier 2 takes it: nobody else is called
        after_ack = {row.phone: row.status for row in await w.asks(alert_id) if row.channel == VOICE}
        log = [entry.detail for entry in await w.log(alert_id, "notified")]
    assert sorted(row.phone for row in calls) == [LI_MING, ZHANG_WEI]
    assert {(row.status, row.not_before) for row in calls} == {
        (NotificationStatus.PENDING, raised_at + timedelta(seconds=30))
    }
    assert after_no == {LI_MING: "cancelled", ZHANG_WEI: "pending"}
    assert after_ack == {LI_MING: "cancelled", ZHANG_WEI: "cancelled"}
    assert any(detail.startswith("voice to Li Ming") and "unless answered within 30 s" in detail for detail in log)


async def test_without_voice_on_the_service_call_after_s_calls_nobody(database_url: str) -> None:
    async with world(database_url, policies=CALL_AFTER_30) as w:
        alert_id = await w.raise_sos()
        asks = await w.asks(alert_id)
    assert {row.channel for row in asks} == {SMS}

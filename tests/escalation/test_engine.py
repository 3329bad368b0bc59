"""The escalation engine, step by step, on a real database: whom each step asks, when the next
step is due, and what the alert's log says. The timer runs when the test moves the clock."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.core.effects import Effects
from monitor.notify.requests import NotificationStatus
from monitor.oncall import availability
from monitor.store.models import Alert, Notification
from tests.escalation.kit import GAO_YAN, NEAREST_FIRST, NOWHERE, World, phones, world
from tests.oncall.kit import CHEN_JING, DUTY, FAR, LI_MING, NEAR, ROAMING, WEDNESDAY_0300, ZHANG_WEI

#: tier 1 names Li Ming and Zhang Wei twice: as the area team, and by id
NAMED_TWICE = """
[[policies]]
id = "default"
tiers = [
  { notify = ["area", "v-1", "v-2"], ack_timeout_s = 60 },
  { notify = ["role:leader"], ack_timeout_s = 60 },
]
"""

ONE_TIER_TWO_ROUNDS = """
[[policies]]
id = "default"
repeat = 1
tiers = [{ notify = ["area"], ack_timeout_s = 60 }]
"""

BY_VOICE = """
[[policies]]
id = "default"
tiers = [{ notify = ["area"], ack_timeout_s = 60, channels = ["voice"] }]
"""

BY_SMS_AND_VOICE = """
[[policies]]
id = "default"
tiers = [{ notify = ["area"], ack_timeout_s = 60, channels = ["sms", "voice"] }]
"""


async def _mark_unreachable(w: World, notification_id: int) -> None:
    """The provider says this ask can no longer arrive; the outbox tells escalation."""

    async def work(session: AsyncSession, effects: Effects) -> None:
        row = await session.get(Notification, notification_id)
        assert row is not None
        row.status = NotificationStatus.FAILED.value
        await w.escalation.on_unreachable(session, row, w.clock.now(), effects)

    await w.write(work)


async def _opt_out(w: World, phone: str) -> None:
    """``phone`` replied STOP: recorded, and escalation told."""

    async def work(session: AsyncSession, effects: Effects) -> None:
        await availability.opt_out(session, phone, w.clock.now(), None)
        await w.escalation.on_opt_out(session, phone, w.clock.now(), effects)

    await w.write(work)


async def test_start_asks_each_person_of_tier_one_once_and_sets_the_timer(database_url: str) -> None:
    async with world(database_url, policies=NAMED_TWICE) as w:
        raised_at = w.clock.now()
        alert_id = await w.raise_sos()
        asks = await w.asks(alert_id)
        alert = await w.alert(alert_id)

    assert sorted(phones(asks)) == [LI_MING, ZHANG_WEI]  # once each; the leader waits for tier 2
    assert {(row.tier, row.round, row.template, row.channel) for row in asks} == {(0, 0, "ask", "sms")}
    assert {row.phone: row.dedupe_key for row in asks} == {
        LI_MING: f"{alert_id}:alert:0:0:{LI_MING}",
        ZHANG_WEI: f"{alert_id}:alert:0:0:{ZHANG_WEI}",
    }
    assert {row.phone: row.volunteer_id for row in asks} == {LI_MING: "v-1", ZHANG_WEI: "v-2"}
    # urgent asks are born claimed by the raising transaction and handed over right after its commit
    assert {row.status for row in asks} == {NotificationStatus.CLAIMED}
    assert sorted(sent.id for sent in w.applied[-1].to_send) == sorted(row.id for row in asks)
    assert (alert.state, alert.tier, alert.round, alert.unanswered) == ("open", 0, 0, False)
    assert alert.next_escalation_at == raised_at + timedelta(seconds=60)


async def test_a_timeout_asks_tier_two_and_not_a_moment_before(database_url: str) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        early = await w.after(seconds=59)
        asks_before = await w.asks(alert_id)
        stepped = await w.after(seconds=1)
        asks = await w.asks(alert_id)
        alert = await w.alert(alert_id)
        now = w.clock.now()

    assert early == 0
    assert len(asks_before) == 2
    assert stepped == 1
    tier_two = [row for row in asks if row.tier == 1]
    assert phones(tier_two) == [CHEN_JING]  # role:leader means the area's own leader, not every leader
    assert (tier_two[0].round, tier_two[0].dedupe_key) == (0, f"{alert_id}:alert:1:0:{CHEN_JING}")
    assert (alert.tier, alert.round) == (1, 0)
    assert alert.next_escalation_at == now + timedelta(seconds=60)


async def test_after_the_last_tier_the_alert_is_unanswered_and_duty_staff_are_told(database_url: str) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        await w.after(seconds=60)
        await w.after(seconds=60)
        alert = await w.alert(alert_id)
        told = await w.notifications(alert_id=alert_id, purpose="unanswered")
        later = await w.after(hours=1)
        rows_later = await w.notifications(alert_id=alert_id)

    assert alert.unanswered is True
    assert alert.state == "open"  # still waiting for someone to take it, now at the duty desk
    assert alert.next_escalation_at is None
    assert [(row.phone, row.template, row.status) for row in told] == [(DUTY, "unanswered", "claimed")]
    assert later == 0  # nothing more is scheduled
    assert len(rows_later) == 4  # two of tier 1, the leader, duty staff


async def test_a_tier_with_nobody_on_call_is_skipped_at_once_saying_who_was_off_and_why(database_url: str) -> None:
    async with world(database_url, at=WEDNESDAY_0300) as w:
        alert_id = await w.raise_sos()
        asks = await w.asks(alert_id)
        alert = await w.alert(alert_id)
        entries = await w.log(alert_id)
        now = w.clock.now()

    assert [(row.phone, row.tier) for row in asks] == [(CHEN_JING, 1)]
    assert (alert.tier, alert.next_escalation_at) == (1, now + timedelta(seconds=60))
    assert [entry.kind for entry in entries] == ["raised", "tier_skipped", "notified"]
    skipped = entries[1].detail
    assert skipped.startswith("tier 1 (round 1) skipped: nobody on call")
    assert "Li Ming off duty by schedule (on call from 18:00)" in skipped
    assert "Zhang Wei off duty by schedule (on call from 17:00)" in skipped


async def test_a_repeat_round_asks_the_same_people_again_with_a_reminder(database_url: str) -> None:
    async with world(database_url, policies=ONE_TIER_TWO_ROUNDS) as w:
        alert_id = await w.raise_sos()
        await w.after(seconds=60)
        asks = await w.asks(alert_id)
        alert = await w.alert(alert_id)
        await w.after(seconds=60)
        finally_ = await w.alert(alert_id)

    first = [row for row in asks if row.round == 0]
    again = [row for row in asks if row.round == 1]
    assert sorted(phones(first)) == sorted(phones(again)) == [LI_MING, ZHANG_WEI]
    assert {row.template for row in first} == {"ask"}
    assert {row.template for row in again} == {"reminder"}
    assert {row.dedupe_key for row in again} == {
        f"{alert_id}:alert:0:1:{LI_MING}",
        f"{alert_id}:alert:0:1:{ZHANG_WEI}",
    }
    assert (alert.tier, alert.round, alert.unanswered) == (0, 1, False)
    assert finally_.unanswered is True


async def test_a_nearest_tier_asks_one_person_at_a_time_nearest_first(database_url: str) -> None:
    async with world(database_url, policies=NEAREST_FIRST) as w:
        start = w.clock.now()
        alert_id = await w.raise_sos("r-n", "btn-n")  # no fix from the device: the resident's home
        timers = [(await w.alert(alert_id)).next_escalation_at]
        for _ in range(3):
            await w.after(seconds=30)
            timers.append((await w.alert(alert_id)).next_escalation_at)
        asks_in_tier_one = await w.asks(alert_id)
        await w.after(seconds=89)
        nobody_yet = await w.asks(alert_id)
        await w.after(seconds=1)
        asks = await w.asks(alert_id)
        next_nearest = await w.log(alert_id, "next_nearest")

    # one at a time, nearest first; whoever has no known position comes last
    assert phones(asks_in_tier_one) == [NEAR, FAR, ROAMING, NOWHERE]
    assert {(row.tier, row.round) for row in asks_in_tier_one} == {(0, 0)}
    assert asks_in_tier_one[0].params is not None and asks_in_tier_one[0].params["distance"] != ""
    # each has the per-person timeout; the last one the tier's whole wait
    assert timers == [
        start + timedelta(seconds=30),
        start + timedelta(seconds=60),
        start + timedelta(seconds=90),
        start + timedelta(seconds=90 + 90),
    ]
    assert len(next_nearest) == 3
    assert [row.id for row in nobody_yet] == [row.id for row in asks_in_tier_one]
    # then tier 2: a-n has no leader of its own, so every leader
    assert sorted(phones(row for row in asks if row.tier == 1)) == sorted([CHEN_JING, GAO_YAN])


async def test_unreachable_moves_on_at_once_only_when_everyone_asked_in_the_tier_failed(database_url: str) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        by_phone = {row.phone: row.id for row in await w.asks(alert_id)}
        await _mark_unreachable(w, by_phone[LI_MING])
        after_one = await w.alert(alert_id)
        await _mark_unreachable(w, by_phone[ZHANG_WEI])
        after_both = await w.alert(alert_id)
        asks = await w.asks(alert_id)
        escalated = await w.log(alert_id, "escalated")
        # a late report about the tier already left behind changes nothing more
        await _mark_unreachable(w, by_phone[LI_MING])
        after_late = await w.alert(alert_id)
        asks_after_late = await w.asks(alert_id)
        now = w.clock.now()

    assert (after_one.tier, after_one.next_escalation_at) == (0, now + timedelta(seconds=60))
    assert (after_both.tier, after_both.next_escalation_at) == (1, now + timedelta(seconds=60))
    assert [(row.phone, row.tier) for row in asks if row.tier == 1] == [(CHEN_JING, 1)]
    assert [entry.detail for entry in escalated] == ["nobody asked in tier 1 could be reached"]
    assert (after_late.tier, after_late.round) == (1, 0)
    assert [row.id for row in asks_after_late] == [row.id for row in asks]


async def test_opting_out_moves_on_at_once_only_when_nobody_asked_in_the_tier_is_left(database_url: str) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        await _opt_out(w, LI_MING)
        after_one = await w.alert(alert_id)
        await _opt_out(w, ZHANG_WEI)
        after_both = await w.alert(alert_id)
        asks = await w.asks(alert_id)

    assert after_one.tier == 0
    assert after_both.tier == 1
    assert [row.phone for row in asks if row.tier == 1] == [CHEN_JING]


async def test_the_same_step_run_twice_queues_nothing_the_second_time(database_url: str) -> None:
    """A second monitor that read the alert before the first one's step committed takes the
    same step again: the asks' unique keys make it queue nothing (invariant 3)."""
    async with world(database_url, policies=ONE_TIER_TWO_ROUNDS) as w:
        alert_id = await w.raise_sos()
        await w.after(seconds=60)  # round 2 asks the team again
        asked_once = await w.asks(alert_id)

        async def back_to_round_one(session: AsyncSession, effects: Effects) -> None:
            alert = await session.get(Alert, alert_id)
            assert alert is not None
            alert.tier, alert.round, alert.next_escalation_at = 0, 0, w.clock.now()

        await w.write(back_to_round_one)
        stepped = await w.timer.run_due()
        asked_after = await w.asks(alert_id)
        second_step = w.applied[-1]

    assert stepped == 1
    assert len(asked_once) == 4
    assert [row.id for row in asked_after] == [row.id for row in asked_once]
    assert second_step.to_send == []


async def test_a_tier_asking_by_a_channel_the_service_lacks_asks_by_sms_and_notes_it(database_url: str) -> None:
    async with world(database_url, policies=BY_VOICE) as w:
        alert_id = await w.raise_sos()
        asks = await w.asks(alert_id)
        notes = await w.log(alert_id, "note")

    assert sorted(phones(asks)) == [LI_MING, ZHANG_WEI]
    assert {row.channel for row in asks} == {"sms"}
    assert [note.detail for note in notes] == ["voice is not configured on this service: asked by SMS instead"]


async def test_a_tier_asks_each_person_on_every_channel_it_names_that_the_service_has(database_url: str) -> None:
    async with world(database_url, policies=BY_SMS_AND_VOICE, channels=("sms", "voice")) as w:
        alert_id = await w.raise_sos()
        asks = await w.asks(alert_id)
        notes = await w.log(alert_id, "note")

    assert sorted((row.phone, row.channel) for row in asks) == [
        (LI_MING, "sms"),
        (LI_MING, "voice"),
        (ZHANG_WEI, "sms"),
        (ZHANG_WEI, "voice"),
    ]
    assert {row.dedupe_key for row in asks if row.channel == "voice"} == {
        f"{alert_id}:alert:0:0:{LI_MING}:voice",
        f"{alert_id}:alert:0:0:{ZHANG_WEI}:voice",
    }
    assert notes == []

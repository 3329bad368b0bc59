"""Follow-through on a real database: from "I'll go" to "I'm there" by SMS, and what the service
does when nobody arrives (reminders, re-escalation, duty staff told), with the escalation timer
as the monitor runs it.

At Wednesday 19:00 an SOS of r-1 (王秀英, zh) asks Li Ming (zh) and Zhang Wei (en), tier 1;
the area's leader Chen Jing is tier 2; Duty Desk is duty staff. The default policy gives an
arrival 30 minutes and a resolution 2 hours after arriving. Alice is duty staff at the console.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.actions.console import ActionRefused, ConsoleActions, ConsoleUserRef
from monitor.actions.responses import ReplyOutcome
from monitor.core.effects import Effects
from monitor.store.models import Alert
from simulator.directory_entries import entry, policy
from tests.escalation.kit import World, world
from tests.oncall.kit import CHEN_JING, DUTY, LI_MING, WANG_LEI, ZHANG_WEI

#: What a test has duty staff do at the console.
ConsoleAct = Callable[[ConsoleActions, AsyncSession, Effects, Alert], Awaitable[None]]
ALICE = ConsoleUserRef(actor="user:alice", name="Alice")


async def _sent(w: World, phone: str, alert_id: int) -> list[str | None]:
    """The templates of what ``phone`` was sent about ``alert_id``, in order."""
    return [row.template for row in await w.notifications(alert_id=alert_id, phone=phone)]


async def test_ack_then_on_my_way_then_here_then_done_records_each_state_and_time(database_url: str) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        w.clock.advance(seconds=40)
        acked_at = w.clock.now()
        await w.reply(LI_MING, "ACK")
        w.clock.advance(minutes=2)
        set_off_at = w.clock.now()
        on_the_way = await w.reply(LI_MING, "OMW 10")
        on_the_way_feedback = w.applied[-1].feedback
        w.clock.advance(minutes=9)
        arrived_at = w.clock.now()
        here = await w.reply(LI_MING, "到了")
        en_route_then_here = await w.alert(alert_id)
        w.clock.advance(minutes=25)
        done = await w.reply(LI_MING, f"DONE {alert_id}")
        alert = await w.alert(alert_id)
        answers = await _sent(w, LI_MING, alert_id)

    assert (on_the_way, here, done) == (ReplyOutcome.ON_THE_WAY, ReplyOutcome.ON_SITE, ReplyOutcome.RESOLVED)
    assert (alert.acknowledged_at, alert.taken_at, alert.acknowledged_by) == (acked_at, acked_at, "v-1")
    assert (alert.en_route_at, alert.eta) == (set_off_at, set_off_at + timedelta(minutes=10))
    assert (alert.on_site_at, alert.on_site_by, alert.state) == (arrived_at, "v-1", "resolved")
    assert (alert.overdue, alert.follow_up, alert.follow_up_at) == (False, None, None)
    # on site: reminded an hour after arriving unless it is over by then
    assert (en_route_then_here.follow_up, en_route_then_here.follow_up_at) == (
        "remind_resolve",
        arrived_at + timedelta(hours=1),
    )
    assert answers == ["ask", "ack_confirmation", "on_the_way", "on_site", "resolved_confirmation"]
    assert [
        (item.payload["state"], item.payload["by"], item.payload.get("eta_min")) for item in on_the_way_feedback
    ] == [("en_route", "Li", 10)]


async def test_ack_and_silence_reminds_at_half_time_then_asks_the_next_tier_and_tells_duty_staff(
    database_url: str,
) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        await w.reply(LI_MING, "ACK")
        taken_at = w.clock.now()
        assert await w.after(minutes=14, seconds=59) == 0
        assert await w.after(seconds=1) == 1  # half-time: reminded
        reminded = await _sent(w, LI_MING, alert_id)
        assert await w.after(minutes=5) == 0  # nothing more until the deadline
        await w.after(minutes=10)  # the deadline: 30 minutes after taking it
        overdue = await w.alert(alert_id)
        asks = await w.asks(alert_id)
        to_duty = await w.notifications(alert_id=alert_id, phone=DUTY)
        told_li = await _sent(w, LI_MING, alert_id)
        w.clock.advance(minutes=4)
        late_here = await w.reply(LI_MING, "HERE")
        arrived = await w.alert(alert_id)
        told_chen = await _sent(w, CHEN_JING, alert_id)
        log = [entry.kind for entry in await w.log(alert_id, "reminded", "reopened", "overdue", "escalated")]

    assert reminded[-1] == "arrival_reminder"
    assert told_li.count("arrival_reminder") == 1
    assert (overdue.state, overdue.overdue, overdue.tier, overdue.acknowledged_by) == ("open", True, 1, None)
    assert overdue.acknowledged_at == taken_at  # the answering figures keep the first answer
    assert [row.phone for row in asks if row.tier == 1] == [CHEN_JING]
    assert [(row.template, row.purpose) for row in to_duty] == [("arrival_overdue", "duty")]
    assert told_li[-1] == "asked_again"
    assert late_here is ReplyOutcome.ON_SITE
    assert (arrived.state, arrived.acknowledged_by, arrived.on_site_by, arrived.overdue) == (
        "on_site",
        "v-1",
        "v-1",
        True,
    )
    assert told_chen == ["ask", "taken"]
    assert log == ["reminded", "reopened", "escalated"]


async def test_the_reminder_and_the_deadline_each_run_once_however_often_the_timer_looks(database_url: str) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        await w.reply(LI_MING, "ACK")
        w.clock.advance(minutes=15)
        await w.timer.run_due()
        await w.timer.run_due()
        w.clock.advance(minutes=15)
        await w.timer.run_due()
        await w.timer.run_due()
        li = await _sent(w, LI_MING, alert_id)
        duty = await _sent(w, DUTY, alert_id)

    assert li.count("arrival_reminder") == 1
    assert li.count("asked_again") == 1
    assert duty == ["arrival_overdue"]


async def test_no_after_ack_hands_it_back_asks_the_next_tier_at_once_and_tells_duty_staff_why(
    database_url: str,
) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        await w.reply(ZHANG_WEI, "ACK")
        w.clock.advance(minutes=3)
        outcome = await w.reply(ZHANG_WEI, f"NO {alert_id} car broke down")
        alert = await w.alert(alert_id)
        asks = await w.asks(alert_id)
        to_duty = await w.notifications(alert_id=alert_id, phone=DUTY)
        answered = await _sent(w, ZHANG_WEI, alert_id)
        [handed_back] = await w.log(alert_id, "reopened")

    assert outcome is ReplyOutcome.HANDED_BACK
    assert (alert.state, alert.tier, alert.acknowledged_by, alert.follow_up) == ("open", 1, None, None)
    assert [row.phone for row in asks if row.tier == 1] == [CHEN_JING]
    assert [row.template for row in to_duty] == ["handed_back"]
    assert "Zhang Wei" in to_duty[0].body and "car broke down" in to_duty[0].body
    assert answered[-1] == "handed_back_confirmation"
    assert (handed_back.actor, handed_back.detail) == ("volunteer:v-2", "Zhang Wei handed it back: car broke down")


async def test_an_eta_that_runs_over_by_its_own_length_is_overdue_like_the_deadline(database_url: str) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        await w.reply(LI_MING, "ACK")
        set_off_at = w.clock.now()
        await w.reply(LI_MING, "在路上 5")
        timer = await w.alert(alert_id)
        await w.after(minutes=5)  # reminded
        await w.after(minutes=5)
        overdue = await w.alert(alert_id)

    # the reminder half-way to the (ETA's) deadline, then the deadline ten minutes after setting off
    assert (timer.follow_up, timer.follow_up_at) == ("remind_arrival", set_off_at + timedelta(minutes=5))
    assert (overdue.state, overdue.overdue) == ("open", True)


async def test_on_site_too_long_reminds_then_tells_duty_staff(database_url: str) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        await w.reply(LI_MING, "ACK")
        await w.reply(LI_MING, "HERE")
        await w.after(hours=1)
        reminded = await _sent(w, LI_MING, alert_id)
        await w.after(hours=1)
        alert = await w.alert(alert_id)
        duty = await _sent(w, DUTY, alert_id)

    assert reminded[-1] == "resolve_reminder"
    assert (alert.state, alert.overdue, alert.follow_up) == ("on_site", True, None)
    assert duty == ["resolve_overdue"]


async def test_a_reply_that_does_not_fit_is_answered_with_the_state_and_what_can_be_replied(
    database_url: str,
) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        await w.reply(LI_MING, "ACK")
        others = await w.reply(ZHANG_WEI, "OMW 5")
        await w.reply(LI_MING, "HERE")
        on_site_go = await w.reply(LI_MING, "GO")
        [hint] = [
            row for row in await w.notifications(alert_id=alert_id, phone=LI_MING) if row.template == "state_hint"
        ]
        zhang = await _sent(w, ZHANG_WEI, alert_id)
        alert = await w.alert(alert_id)

    assert others is ReplyOutcome.ALREADY_TAKEN
    assert zhang[-1] == "already_taken"
    assert on_site_go is ReplyOutcome.DOES_NOT_FIT
    assert "完成" in hint.body  # Li Ming's language; what can be replied on site
    assert alert.state == "on_site"


async def test_policy_deadlines_come_from_the_directory(database_url: str) -> None:
    async with world(database_url, policies=policy(("area", 60), ("role:leader", 60), arrive_within_s=600)) as w:
        alert_id = await w.raise_sos()
        await w.reply(LI_MING, "ACK")
        taken_at = w.clock.now()
        alert = await w.alert(alert_id)

    assert (alert.follow_up, alert.follow_up_at) == ("remind_arrival", taken_at + timedelta(minutes=5))


async def _console(w: World, alert_id: int, act: ConsoleAct) -> None:
    console = ConsoleActions(w.actions)

    async def work(session: AsyncSession, effects: Effects) -> None:
        alert = await session.get(Alert, alert_id, with_for_update=True)
        assert alert is not None
        await act(console, session, effects, alert)

    await w.write(work)


async def test_duty_staff_escalate_a_taken_alert_now_and_the_holder_is_told(database_url: str) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        await w.reply(LI_MING, "ACK")
        await _console(
            w,
            alert_id,
            lambda console, session, effects, alert: console.escalate_now(
                session, effects, alert, user=ALICE, now=w.clock.now(), reason="no answer on her phone"
            ),
        )
        alert = await w.alert(alert_id)
        asks = await w.asks(alert_id)
        li = await _sent(w, LI_MING, alert_id)
        logged = [
            (entry.kind, entry.actor, entry.detail) for entry in await w.log(alert_id, "reopened", "escalate_requested")
        ]

    assert (alert.state, alert.tier) == ("open", 1)
    assert [row.phone for row in asks if row.tier == 1] == [CHEN_JING]
    assert li[-1] == "asked_again"
    assert logged == [
        ("reopened", "user:alice", "Alice took it back at the console: no answer on her phone"),
        ("escalate_requested", "user:alice", "Alice at the console: no answer on her phone"),
    ]


async def test_duty_staff_reassign_a_taken_alert_to_a_named_volunteer_who_is_asked_by_sms(database_url: str) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        await w.reply(LI_MING, "ACK")
        await _console(
            w,
            alert_id,
            lambda console, session, effects, alert: console.reassign(
                session, effects, alert, user=ALICE, now=w.clock.now(), volunteer_id="v-2", reason="Li is ill"
            ),
        )
        reassigned = await w.alert(alert_id)
        zhang = await _sent(w, ZHANG_WEI, alert_id)
        taken = await w.reply(ZHANG_WEI, "ACK")
        alert = await w.alert(alert_id)
        [logged] = await w.log(alert_id, "reassigned")

    assert (reassigned.state, reassigned.acknowledged_by) == ("open", None)
    assert zhang[-1] == "ask"
    assert taken is ReplyOutcome.ACKNOWLEDGED
    assert (alert.state, alert.acknowledged_by) == ("acknowledged", "v-2")
    assert (logged.actor, logged.detail) == ("user:alice", "Alice asked Zhang Wei to take it: Li is ill")


async def test_duty_staff_mark_arrived_on_the_holders_behalf(database_url: str) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        await w.reply(LI_MING, "OMW 15")
        w.clock.advance(minutes=12)
        await _console(
            w,
            alert_id,
            lambda console, session, effects, alert: console.mark_arrived(
                session, effects, alert, user=ALICE, now=w.clock.now(), reason="Li Ming phoned"
            ),
        )
        alert = await w.alert(alert_id)
        [logged] = await w.log(alert_id, "on_site")
        refused = None
        try:
            await _console(
                w,
                alert_id,
                lambda console, session, effects, alert: console.mark_arrived(
                    session, effects, alert, user=ALICE, now=w.clock.now()
                ),
            )
        except ActionRefused as error:
            refused = str(error)

    assert (alert.state, alert.on_site_by, alert.on_site_at) == ("on_site", "v-1", w.clock.now())
    assert (logged.actor, logged.detail) == (
        "user:alice",
        "Li Ming on site (recorded at the console by Alice: Li Ming phoned)",
    )
    assert refused is not None and "on_site" in refused


async def test_the_family_hears_when_it_is_taken_and_when_help_arrives_and_the_resident_when_it_is_on_its_way(
    database_url: str,
) -> None:
    """r-1's son is informed (the policy says so); Tom Reed (r-s) asked for SMS updates on his own phone."""
    tom = "+8613800000077"
    people = (
        entry(
            "residents",
            id="r-s",
            name="Tom Reed",
            address="2 Mill Row",
            area="a-1",
            language="en",
            phone=tom,
            sms_updates=True,
        )
        + entry("devices", id="btn-s", resident="r-s", heartbeat_s=0)
        + policy(("area", 60), ("role:leader", 60), inform=["family"])
    )
    async with world(database_url, policies=people) as w:
        for_wang = await w.raise_sos()
        await w.reply(ZHANG_WEI, f"ACK {for_wang}")
        await w.reply(ZHANG_WEI, "HERE")
        for_tom = await w.raise_sos("r-s", "btn-s")
        await w.reply(LI_MING, f"ACK {for_tom}")
        await w.reply(LI_MING, "OMW 10")
        son = await w.notifications(phone=WANG_LEI)
        told_tom = await w.notifications(phone=tom)

    assert [row.template for row in son] == ["family_raised", "family_taken", "family_arrived"]
    assert "Zhang" in son[1].body and "Zhang" in son[2].body
    assert [row.template for row in told_tom] == ["resident_taken", "resident_on_the_way"]
    assert told_tom[1].body == "Li is on the way to you, expected at 19:10. No need to reply."

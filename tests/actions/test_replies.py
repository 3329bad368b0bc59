"""SMS replies through the reply handler, on a real database: what each reply does to alerts,
what it answers (the answer's template), and what is kept of it (``inbound_sms``).

At Wednesday 19:00 an SOS of r-1 asks Li Ming and Zhang Wei (tier 1); the area's leader Chen
Jing is tier 2; Sun Li serves another area.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.actions.responses import ReplyOutcome
from monitor.core.effects import Effects
from monitor.store.models import FamilyContact, SmsOptOut, VolunteerAvailability
from simulator.directory_entries import policy
from tests.escalation.kit import NEAREST_FIRST, STRANGER, SUN_LI, World, phones, world
from tests.oncall.kit import CHEN_JING, DUTY, FAR, LI_MING, NEAR, WANG_LEI, ZHANG_WEI

FAMILY_FIRST = policy(("family", 60), ("area", 60))


async def _answers(w: World, phone: str) -> list[tuple[str | None, int | None]]:
    """What the replies of ``phone`` were answered with: (template, alert id), in order."""
    rows = await w.notifications(phone=phone)
    return [(row.template, row.alert_id) for row in rows if row.purpose in ("confirmation", "help")]


async def _notification_count(w: World) -> int:
    return len(await w.notifications())


async def test_ack_takes_the_most_recent_open_alert_this_phone_was_asked_about(database_url: str) -> None:
    async with world(database_url) as w:
        older = await w.raise_sos("r-1", "btn-1")
        w.clock.advance(seconds=10)
        newer = await w.raise_sos("r-3", "btn-3")
        outcome = await w.reply(LI_MING, "ACK")
        taken, untouched = await w.alert(newer), await w.alert(older)
        told = await w.notifications(alert_id=newer, purpose="taken")
        confirmed = await w.notifications(alert_id=newer, purpose="confirmation")
        [inbound] = await w.inbound()
        feedback = w.applied[-1].feedback

    assert outcome is ReplyOutcome.ACKNOWLEDGED
    assert (taken.state, taken.acknowledged_by, taken.next_escalation_at) == ("acknowledged", "v-1", None)
    assert untouched.state == "open"
    assert [(row.phone, row.template) for row in confirmed] == [(LI_MING, "ack_confirmation")]
    assert [(row.phone, row.template) for row in told] == [(ZHANG_WEI, "taken")]
    assert (inbound.outcome, inbound.alert_id, inbound.volunteer_id) == ("acknowledged", newer, "v-1")
    assert [(item.topic, item.payload["state"], item.payload["by"]) for item in feedback] == [
        ("callwatch/btn-3/feedback", "acknowledged", "Li")
    ]


async def test_ack_with_a_number_takes_that_alert(database_url: str) -> None:
    async with world(database_url) as w:
        older = await w.raise_sos("r-1", "btn-1")
        w.clock.advance(seconds=10)
        newer = await w.raise_sos("r-3", "btn-3")
        outcome = await w.reply(ZHANG_WEI, f"ack #{older}")
        taken, untouched = await w.alert(older), await w.alert(newer)

    assert outcome is ReplyOutcome.ACKNOWLEDGED
    assert (taken.state, taken.acknowledged_by) == ("acknowledged", "v-2")
    assert untouched.state == "open"


async def test_done_resolves_the_alert_its_sender_took(database_url: str) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        await w.reply(LI_MING, "ACK")
        w.clock.advance(minutes=20)
        outcome = await w.reply(LI_MING, "DONE")
        alert = await w.alert(alert_id)
        answers = await _answers(w, LI_MING)
        resolved_at = w.clock.now()

    assert outcome is ReplyOutcome.RESOLVED
    assert (alert.state, alert.outcome, alert.resolved_by) == ("resolved", "volunteer_visited", "v-1")
    assert alert.resolved_at == resolved_at
    assert answers == [("ack_confirmation", alert_id), ("resolved_confirmation", alert_id)]


async def test_done_on_an_open_alert_takes_it_and_resolves_it(database_url: str) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        outcome = await w.reply(ZHANG_WEI, f"DONE {alert_id}")
        alert = await w.alert(alert_id)
        told = await w.notifications(alert_id=alert_id, purpose="taken")

    assert outcome is ReplyOutcome.RESOLVED
    assert (alert.state, alert.acknowledged_by, alert.resolved_by) == ("resolved", "v-2", "v-2")
    assert phones(told) == [LI_MING]


async def test_no_declines_and_asks_the_next_tier_at_once(database_url: str) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        outcome = await w.reply(LI_MING, "NO")
        alert = await w.alert(alert_id)
        asks = await w.asks(alert_id)
        answers = await _answers(w, LI_MING)
        declined = await w.log(alert_id, "declined")
        now = w.clock.now()

    assert outcome is ReplyOutcome.DECLINED
    assert (alert.state, alert.tier, alert.next_escalation_at) == ("open", 1, now + timedelta(seconds=60))
    assert [row.phone for row in asks if row.tier == 1] == [CHEN_JING]
    assert answers == [("decline_confirmation", alert_id)]
    assert [entry.actor for entry in declined] == ["volunteer:v-1"]


async def test_no_in_a_nearest_first_tier_asks_the_next_nearest_at_once(database_url: str) -> None:
    async with world(database_url, policies=NEAREST_FIRST) as w:
        alert_id = await w.raise_sos("r-n", "btn-n")
        outcome = await w.reply(NEAR, "NO")
        alert = await w.alert(alert_id)
        asks = await w.asks(alert_id)
        now = w.clock.now()

    assert outcome is ReplyOutcome.DECLINED
    assert [(row.phone, row.tier) for row in asks] == [(NEAR, 0), (FAR, 0)]
    assert (alert.tier, alert.next_escalation_at) == (0, now + timedelta(seconds=30))


async def test_a_late_no_from_an_earlier_tier_does_not_cut_the_current_tier_short(database_url: str) -> None:
    """Li Ming answers NO after the alert already went on to the leader: the leader still has
    their minute; nobody tells duty staff that it went unanswered."""
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        await w.after(seconds=60)  # tier 2: the leader is asked
        leader_asked_at = w.clock.now()
        w.clock.advance(seconds=5)
        outcome = await w.reply(LI_MING, "NO")
        alert = await w.alert(alert_id)
        to_duty = await w.notifications(phone=DUTY)

    assert outcome is ReplyOutcome.DECLINED
    assert (alert.state, alert.tier, alert.unanswered) == ("open", 1, False)
    assert alert.next_escalation_at == leader_asked_at + timedelta(seconds=60)
    assert to_duty == []


async def test_a_replayed_reply_changes_nothing(database_url: str) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        first = await w.reply(LI_MING, "NO", provider_id="SM0001")
        rows_before = await _notification_count(w)
        again = await w.reply(LI_MING, "NO", provider_id="SM0001")
        alert = await w.alert(alert_id)
        rows_after = await _notification_count(w)
        inbound = await w.inbound()

    assert (first, again) == (ReplyOutcome.DECLINED, ReplyOutcome.REPLAY)
    assert (alert.tier, alert.unanswered) == (1, False)  # declined once: tier 2, not past it
    assert rows_after == rows_before
    assert [row.outcome for row in inbound] == ["declined"]


async def test_a_strangers_reply_changes_nothing_and_gets_no_answer(database_url: str) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        outcome = await w.reply(STRANGER, f"ACK {alert_id}")
        alert = await w.alert(alert_id)
        to_stranger = await w.notifications(phone=STRANGER)
        [inbound] = await w.inbound()

    assert outcome is ReplyOutcome.UNKNOWN_NUMBER
    assert (alert.state, alert.acknowledged_by) == ("open", None)
    assert to_stranger == []
    assert (inbound.outcome, inbound.from_phone, inbound.alert_id) == ("unknown_number", STRANGER, None)


async def test_a_reply_about_an_alert_the_phone_was_not_asked_about_is_refused(database_url: str) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        # the leader is tier 2 and not asked yet; Sun Li serves another area
        from_leader = await w.reply(CHEN_JING, f"ACK {alert_id}")
        from_elsewhere = await w.reply(SUN_LI, f"DONE {alert_id}")
        alert = await w.alert(alert_id)
        inbound = await w.inbound()
        answers = await _answers(w, CHEN_JING) + await _answers(w, SUN_LI)

    assert (from_leader, from_elsewhere) == (ReplyOutcome.NO_ALERT, ReplyOutcome.NO_ALERT)
    assert (alert.state, alert.acknowledged_by) == ("open", None)
    assert [(row.outcome, row.alert_id) for row in inbound] == [("no_alert", None), ("no_alert", None)]
    assert answers == [("nothing_to_answer", None), ("nothing_to_answer", None)]


async def test_ack_of_an_alert_someone_took_answers_who_took_it(database_url: str) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        await w.reply(LI_MING, "ACK")
        outcome = await w.reply(ZHANG_WEI, "ACK")
        alert = await w.alert(alert_id)
        answered = [row for row in await w.notifications(phone=ZHANG_WEI) if row.purpose == "confirmation"]

    assert outcome is ReplyOutcome.ALREADY_TAKEN
    assert (alert.state, alert.acknowledged_by) == ("acknowledged", "v-1")
    assert [(row.template, row.alert_id) for row in answered] == [("already_taken", alert_id)]
    assert answered[0].params is not None and answered[0].params["taker"] == "Li Ming"


async def test_done_of_an_alert_someone_else_took_answers_who_took_it_and_leaves_it_to_them(
    database_url: str,
) -> None:
    """docs/configuration.md: "A reply about an alert someone else already took is answered with
    who took it"; only whoever took it closes it by SMS."""
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        await w.reply(LI_MING, "ACK")
        outcome = await w.reply(ZHANG_WEI, f"DONE {alert_id}")
        alert = await w.alert(alert_id)
        answers = await _answers(w, ZHANG_WEI)

    assert outcome is ReplyOutcome.ALREADY_TAKEN
    assert (alert.state, alert.acknowledged_by, alert.resolved_by) == ("acknowledged", "v-1", None)
    assert answers == [("already_taken", alert_id)]


async def test_a_reply_about_a_closed_alert_says_it_is_closed(database_url: str) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        await w.reply(LI_MING, "DONE")
        outcome = await w.reply(ZHANG_WEI, f"NO {alert_id}")
        alert = await w.alert(alert_id)
        answered = [row for row in await w.notifications(phone=ZHANG_WEI) if row.purpose == "confirmation"]

    assert outcome is ReplyOutcome.CLOSED
    assert (alert.state, alert.tier) == ("resolved", 0)
    assert [(row.template, row.params and row.params["state"]) for row in answered] == [("closed", "resolved")]


async def test_a_family_contact_asked_by_a_tier_takes_the_alert_by_reply(database_url: str) -> None:
    async with world(database_url, policies=FAMILY_FIRST) as w:
        alert_id = await w.raise_sos()
        outcome = await w.reply(WANG_LEI, "收到")
        alert = await w.alert(alert_id)
        answers = await _answers(w, WANG_LEI)

    assert outcome is ReplyOutcome.ACKNOWLEDGED
    assert alert.state == "acknowledged"
    assert alert.acknowledged_by is not None and alert.acknowledged_by.startswith("family:")
    assert answers == [("ack_confirmation", alert_id)]


async def test_a_family_contact_who_also_volunteers_elsewhere_takes_the_alert_they_were_asked_about(
    database_url: str,
) -> None:
    """Sun Li volunteers in another area and is also r-1's daughter: the family tier asks her
    phone, so her reply is about that alert."""
    async with world(database_url, policies=FAMILY_FIRST) as w:

        async def daughter(session: AsyncSession, effects: Effects) -> None:
            session.add(
                FamilyContact(
                    resident_id="r-1", position=1, name="Sun Li", phone=SUN_LI, language="zh", relationship="daughter"
                )
            )

        await w.write(daughter)
        alert_id = await w.raise_sos()
        asked = phones(await w.asks(alert_id))
        outcome = await w.reply(SUN_LI, f"ACK {alert_id}")
        alert = await w.alert(alert_id)

    assert SUN_LI in asked
    assert outcome is ReplyOutcome.ACKNOWLEDGED
    assert alert.state == "acknowledged"
    assert alert.acknowledged_by is not None and (
        alert.acknowledged_by == "v-4" or alert.acknowledged_by.startswith("family:")
    )


# -- about themselves ----------------------------------------------------------------------------


async def _availability(w: World, volunteer_id: str) -> VolunteerAvailability | None:
    async with w.database.read() as session:
        return await session.get(VolunteerAvailability, volunteer_id)


async def test_off_and_on_are_recorded_and_answered_with_where_the_volunteer_stands(database_url: str) -> None:
    async with world(database_url) as w:
        off = await w.reply(LI_MING, "OFF")
        said_off = await _availability(w, "v-1")
        alert_id = await w.raise_sos()  # while Li Ming is off
        asked_while_off = await w.asks(alert_id)
        w.clock.advance(minutes=5)
        on = await w.reply(LI_MING, "上班")
        said_on = await _availability(w, "v-1")
        answers = [row for row in await w.notifications(phone=LI_MING) if row.purpose == "confirmation"]

    assert (off, on) == (ReplyOutcome.AVAILABILITY, ReplyOutcome.AVAILABILITY)
    assert said_off is not None and said_off.off_since is not None
    assert phones(asked_while_off) == [ZHANG_WEI]
    assert said_on is not None and said_on.off_since is None
    assert [row.template for row in answers] == ["availability_off", "availability_on_call"]
    assert answers[1].params is not None and answers[1].params["until"] == "23:00"  # Li Ming's evening ends


async def test_pause_and_status_are_answered_with_until_when(database_url: str) -> None:
    async with world(database_url) as w:
        pause = await w.reply(ZHANG_WEI, "PAUSE 2h")
        said = await _availability(w, "v-2")
        w.clock.advance(minutes=30)
        status = await w.reply(ZHANG_WEI, "STATUS")
        still = await _availability(w, "v-2")
        w.clock.advance(hours=2)
        status_later = await w.reply(ZHANG_WEI, "status")
        answers = [row for row in await w.notifications(phone=ZHANG_WEI) if row.purpose == "confirmation"]
        inbound = await w.inbound()

    assert (pause, status, status_later) == (ReplyOutcome.AVAILABILITY,) * 3
    assert said is not None and said.paused_until is not None
    assert still is not None and still.paused_until == said.paused_until  # STATUS changes nothing
    assert [(row.template, (row.params or {}).get("until")) for row in answers] == [
        ("availability_paused", "21:00"),
        ("availability_paused", "21:00"),
        ("availability_on_call", "22:00"),  # the pause is over; weekdays until 22:00
    ]
    assert [row.outcome for row in inbound] == ["availability"] * 3


async def test_stop_opts_the_phone_out_and_cancels_what_waits_to_go_to_it(database_url: str) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        await w.reply(ZHANG_WEI, "ACK")  # Li Ming is to be told that Zhang Wei took it
        waiting = await w.notifications(alert_id=alert_id, purpose="taken", phone=LI_MING)
        stopped_at = w.clock.advance(minutes=1)
        outcome = await w.reply(LI_MING, "STOP")
        after_stop = await w.notifications(phone=LI_MING)
        async with w.database.read() as session:
            opted_out = (await session.scalars(select(SmsOptOut.phone))).all()
        newer = await w.raise_sos("r-3", "btn-3")
        asked_later = await w.asks(newer)
        inbound = await w.inbound()

    assert outcome is ReplyOutcome.OPTED_OUT
    assert [row.status for row in waiting] == ["pending"]
    taken_row = next(row for row in after_stop if row.id == waiting[0].id)
    assert taken_row.status == "cancelled"
    assert [row.purpose for row in after_stop if row.created_at == stopped_at] == []  # the carrier answers STOP
    assert list(opted_out) == [LI_MING]
    assert phones(asked_later) == [ZHANG_WEI]
    assert inbound[-1].outcome == "opted_out"


async def test_an_unreadable_reply_gets_one_help_answer_per_ten_minutes(database_url: str) -> None:
    async with world(database_url) as w:
        first = await w.reply(LI_MING, "who is this?")
        w.clock.advance(minutes=9)
        second = await w.reply(LI_MING, "hello??")
        w.clock.advance(minutes=2)
        third = await w.reply(LI_MING, "hello???")
        helps = await w.notifications(phone=LI_MING, purpose="help")
        inbound = await w.inbound()

    assert (first, second, third) == (ReplyOutcome.UNPARSED,) * 3
    assert [row.template for row in helps] == ["help", "help"]
    assert helps[1].created_at - helps[0].created_at == timedelta(minutes=11)
    assert [row.outcome for row in inbound] == ["unparsed"] * 3

"""Whom a tier asks about one alert right now (``tier_audience``), why the others are left out
(``explain_skip``), and a volunteer's standing (``standing_of``): the rules, on a real database."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.core.effects import Effects
from monitor.directory import model as file_model
from monitor.escalation.audience import Audience, explain_skip, tier_audience
from monitor.oncall import availability
from monitor.oncall.standing import Duty, Standing, standing_of
from monitor.store.models import Alert, FamilyContact, Volunteer, VolunteerAvailability, VolunteerPhone
from tests.escalation.kit import GAO_YAN, HOME_OF_R_N, NOWHERE, SUN_LI, World, world
from tests.oncall.kit import (
    CHEN_JING,
    FAR,
    LI_MING,
    NEAR,
    ROAMING,
    SHANGHAI,
    WANG_LEI,
    WEDNESDAY_1900,
    ZHANG_WEI,
    ZHOU_MIN,
)


async def _audience(
    w: World,
    targets: Sequence[str],
    *,
    area: str | None = "a-1",
    resident: str | None = "r-1",
    already_asked: Collection[str] = (),
    nearest_first: bool = False,
    position: tuple[float, float] | None = None,
) -> Audience:
    """Whom ``targets`` mean now for an SOS of ``resident`` in ``area``."""
    now = w.clock.now()
    alert = Alert(
        kind="sos", state="open", area_id=area, resident_id=resident, raised_at=now, tier=0, round=0, unanswered=False
    )
    if position is not None:
        alert.lat, alert.lon = position
    async with w.database.read() as session:
        return await tier_audience(
            w.escalation.reads(session, now), targets, alert, already_asked=already_asked, nearest_first=nearest_first
        )


def _to_ask(audience: Audience) -> list[str]:
    return [recipient.phone for recipient in audience.to_ask]


def _left_out(audience: Audience) -> dict[str, Standing]:
    return {recipient.phone: standing for recipient, standing in audience.unavailable}


async def _say(w: World, word: str, volunteer_id: str, phone: str = "", pause: timedelta | None = None) -> None:
    """What a volunteer said by SMS, recorded as the reply handler records it."""

    async def record(session: AsyncSession, effects: Effects) -> None:
        now = w.clock.now()
        if word == "off":
            await availability.go_off(session, volunteer_id, now)
        elif word == "pause":
            assert pause is not None
            await availability.pause(session, volunteer_id, pause, now)
        elif word == "stop":
            await availability.opt_out(session, phone, now, None)

    await w.write(record)


# -- targets -------------------------------------------------------------------------------------


async def test_area_means_the_alerts_area_team_on_call_and_not_its_leader(database_url: str) -> None:
    async with world(database_url) as w:
        a1 = await _audience(w, ["area"])
        a2 = await _audience(w, ["area"], area="a-2", resident="r-2")

    assert _to_ask(a1) == [LI_MING, ZHANG_WEI]
    assert a1.unavailable == [] and a1.already_asked == []
    assert _to_ask(a2) == [SUN_LI]
    assert [duty.duty for duty in _left_out(a2).values()] == [Duty.OFF_SCHEDULE]  # Zhou Min: weekends only
    assert list(_left_out(a2)) == [ZHOU_MIN]


async def test_a_role_means_its_members_in_the_area_else_every_member_of_the_role(database_url: str) -> None:
    async with world(database_url) as w:
        local = await _audience(w, ["role:leader"])
        nobody_local = await _audience(w, ["role:leader"], area="a-2", resident="r-2")
        staff = await _audience(w, ["role:staff"])

    assert _to_ask(local) == [CHEN_JING]
    assert _to_ask(nobody_local) == [GAO_YAN, CHEN_JING]  # in id order: lead-2, v-9
    assert [recipient.volunteer_id for recipient in staff.to_ask] == ["duty-1"]


async def test_volunteer_ids_name_those_volunteers_wherever_they_serve_while_active(database_url: str) -> None:
    async with world(database_url) as w:
        named = await _audience(w, ["lead-2", "v-4"])

        async def retire(session: AsyncSession, effects: Effects) -> None:
            await session.execute(update(Volunteer).where(Volunteer.id == "v-4").values(active=False))

        await w.write(retire)
        after_retiring = await _audience(w, ["lead-2", "v-4"])

    assert _to_ask(named) == [GAO_YAN, SUN_LI]
    assert _to_ask(after_retiring) == [GAO_YAN]


async def test_family_means_the_residents_contacts_unless_they_opted_out(database_url: str) -> None:
    async with world(database_url) as w:
        family = await _audience(w, ["family"])
        none_on_record = await _audience(w, ["family"], area="a-2", resident="r-2")
        await _say(w, "stop", "", WANG_LEI)
        stopped = await _audience(w, ["family"])

    assert _to_ask(family) == [WANG_LEI]
    assert family.to_ask[0].family is not None and family.to_ask[0].volunteer is None
    assert none_on_record.to_ask == [] and none_on_record.unavailable == []
    assert stopped.to_ask == []
    assert _left_out(stopped) == {WANG_LEI: Standing(Duty.OPTED_OUT)}


async def test_each_phone_is_asked_once_however_many_targets_name_it(database_url: str) -> None:
    async with world(database_url) as w:

        async def neighbour_is_family_too(session: AsyncSession, effects: Effects) -> None:
            session.add(
                FamilyContact(resident_id="r-1", position=1, name="Li Ming (neighbour)", phone=LI_MING, language="zh")
            )

        await w.write(neighbour_is_family_too)
        audience = await _audience(w, ["area", "v-1", "role:leader", "v-9", "family"])

    assert _to_ask(audience) == [LI_MING, ZHANG_WEI, CHEN_JING, WANG_LEI]
    assert audience.to_ask[0].volunteer_id == "v-1"  # asked as the volunteer they are


async def test_those_already_asked_this_round_are_left_out(database_url: str) -> None:
    async with world(database_url) as w:
        audience = await _audience(w, ["area", "role:leader"], already_asked={LI_MING, CHEN_JING})

    assert _to_ask(audience) == [ZHANG_WEI]
    assert [recipient.phone for recipient in audience.already_asked] == [LI_MING, CHEN_JING]


# -- standings -----------------------------------------------------------------------------------


async def test_off_paused_stopped_and_off_schedule_people_are_unavailable_saying_why(database_url: str) -> None:
    async with world(database_url) as w:
        now = w.clock.now()
        await _say(w, "off", "v-1")
        await _say(w, "pause", "v-2", pause=timedelta(hours=1))
        await _say(w, "stop", "v-9", CHEN_JING)
        audience = await _audience(w, ["area", "role:leader", "v-5", "v-4"])

    assert _to_ask(audience) == [SUN_LI]
    assert _left_out(audience) == {
        LI_MING: Standing(Duty.OFF),
        ZHANG_WEI: Standing(Duty.PAUSED, now + timedelta(hours=1)),
        CHEN_JING: Standing(Duty.OPTED_OUT),
        ZHOU_MIN: Standing(Duty.OFF_SCHEDULE, datetime(2026, 5, 9, 0, 0, tzinfo=SHANGHAI)),  # Saturday
    }


# -- nearest first -------------------------------------------------------------------------------


async def _phone_fix(w: World, at: tuple[float, float], age: timedelta) -> None:
    """Roaming Rita's phone (she consented to share it) reported ``at``, ``age`` ago."""

    async def record(session: AsyncSession, effects: Effects) -> None:
        phone = await session.get(VolunteerPhone, "phone-n-3")
        assert phone is not None
        phone.last_lat, phone.last_lon, phone.last_fix_at = at[0], at[1], w.clock.now() - age

    await w.write(record)


async def test_nearest_first_orders_by_volunteers_homes_and_those_without_a_place_last(database_url: str) -> None:
    async with world(database_url) as w:
        audience = await _audience(w, ["area"], area="a-n", resident="r-n", nearest_first=True)

    assert _to_ask(audience) == [NEAR, FAR, ROAMING, NOWHERE]
    distances = [recipient.distance_m for recipient in audience.to_ask]
    assert distances[3] is None
    assert distances[0] == pytest.approx(300, rel=0.05)
    assert distances[1] == pytest.approx(1200, rel=0.05)
    assert distances[2] == pytest.approx(5000, rel=0.05)
    assert audience.point is not None and (audience.point.lat, audience.point.lon) == HOME_OF_R_N


async def test_a_consented_recent_phone_fix_counts_before_the_home_and_a_stale_one_does_not(
    database_url: str,
) -> None:
    beside_the_resident = (HOME_OF_R_N[0] + 0.0009, HOME_OF_R_N[1])  # about 100 m
    async with world(database_url) as w:
        await _phone_fix(w, beside_the_resident, age=timedelta(minutes=5))
        fresh = await _audience(w, ["area"], area="a-n", resident="r-n", nearest_first=True)
        await _phone_fix(w, beside_the_resident, age=timedelta(hours=3))
        stale = await _audience(w, ["area"], area="a-n", resident="r-n", nearest_first=True)

    assert _to_ask(fresh) == [ROAMING, NEAR, FAR, NOWHERE]
    assert fresh.to_ask[0].distance_m == pytest.approx(100, rel=0.05)
    assert _to_ask(stale) == [NEAR, FAR, ROAMING, NOWHERE]


async def test_the_alerts_own_position_comes_before_the_residents_home(database_url: str) -> None:
    at_far_friends_door = (30.2849, 120.1551)
    async with world(database_url) as w:
        audience = await _audience(
            w, ["area"], area="a-n", resident="r-n", nearest_first=True, position=at_far_friends_door
        )
        together = await _audience(w, ["area"], area="a-n", resident="r-n", position=at_far_friends_door)

    assert _to_ask(audience)[:2] == [FAR, NEAR]
    # a tier that asks everyone together neither measures nor orders by distance
    assert together.point is None
    assert _to_ask(together) == [NEAR, FAR, ROAMING, NOWHERE]  # id order
    assert {recipient.distance_m for recipient in together.to_ask} == {None}


# -- the log's sentence for a skipped tier --------------------------------------------------------


async def test_explain_skip_says_who_was_unavailable_and_why_and_who_was_asked_already(database_url: str) -> None:
    async with world(database_url) as w:
        now = w.clock.now()
        await _say(w, "off", "v-1")
        await _say(w, "pause", "v-9", pause=timedelta(minutes=30))
        unavailable = await _audience(w, ["area", "role:leader", "v-5"], already_asked={ZHANG_WEI})
        await _say(w, "stop", "v-4", SUN_LI)
        stopped = await _audience(w, ["v-4"])
        asked_already = await _audience(w, ["area"], already_asked={LI_MING, ZHANG_WEI})
        nobody = await _audience(w, ["family"], area="a-2", resident="r-2")

    assert explain_skip(0, 0, unavailable, now, SHANGHAI) == (
        "tier 1 (round 1) skipped: nobody on call: Li Ming off (replied OFF); Chen Jing paused until 19:30; "
        "Zhou Min off duty by schedule (on call from Sat 00:00); already asked this round: Zhang Wei"
    )
    assert explain_skip(1, 0, stopped, now, SHANGHAI) == (
        "tier 2 (round 1) skipped: nobody on call: Sun Li unreachable (replied STOP)"
    )
    assert explain_skip(0, 1, asked_already, now, SHANGHAI) == (
        "tier 1 (round 2) skipped: nobody left to ask: already asked this round: Li Ming, Zhang Wei"
    )
    assert explain_skip(2, 0, nobody, now, SHANGHAI) == (
        "tier 3 (round 1) skipped: its targets name nobody in the directory"
    )


# -- standing_of: first match wins ---------------------------------------------------------------

NOW = WEDNESDAY_1900


def _volunteer(on_call: Sequence[Mapping[str, object]] = (), timezone: str | None = None) -> Volunteer:
    entry = file_model.Volunteer.model_validate(
        {"id": "v-x", "name": "X", "phone": "+8613900000077", "on_call": list(on_call), "timezone": timezone}
    )
    return Volunteer(
        id=entry.id, name=entry.name, phone=entry.phone, timezone=entry.timezone, schedule=entry.schedule_json()
    )


def _said(*, off: bool = False, paused_for: timedelta | None = None) -> VolunteerAvailability:
    return VolunteerAvailability(
        volunteer_id="v-x",
        off_since=NOW - timedelta(hours=1) if off else None,
        paused_until=NOW + paused_for if paused_for is not None else None,
        changed_at=NOW - timedelta(hours=1),
    )


def test_standing_without_a_schedule_or_a_word_is_on_call_with_no_end() -> None:
    assert standing_of(_volunteer(), None, False, NOW, SHANGHAI) == Standing(Duty.ON_CALL)


def test_standing_stop_wins_over_everything_said_since() -> None:
    said = _said(off=True, paused_for=timedelta(hours=1))
    assert standing_of(_volunteer(), said, True, NOW, SHANGHAI) == Standing(Duty.OPTED_OUT)


def test_standing_off_wins_over_a_pause_that_still_runs() -> None:
    said = _said(off=True, paused_for=timedelta(hours=1))
    assert standing_of(_volunteer(), said, False, NOW, SHANGHAI) == Standing(Duty.OFF)


def test_standing_a_running_pause_says_until_when_and_an_ended_one_counts_for_nothing() -> None:
    evenings = [{"days": ["daily"], "from": "18:00", "to": "23:00"}]
    running = standing_of(_volunteer(), _said(paused_for=timedelta(minutes=45)), False, NOW, SHANGHAI)
    ended = standing_of(_volunteer(evenings), _said(paused_for=-timedelta(minutes=1)), False, NOW, SHANGHAI)
    assert running == Standing(Duty.PAUSED, NOW + timedelta(minutes=45))
    assert ended == Standing(Duty.ON_CALL, datetime(2026, 5, 6, 23, 0, tzinfo=SHANGHAI))


def test_standing_by_schedule_in_the_volunteers_own_time_zone() -> None:
    mornings = [{"days": ["daily"], "from": "09:00", "to": "13:00"}]
    # 19:00 in Shanghai is 12:00 in London: on call there, not by Shanghai's clock
    in_london = standing_of(_volunteer(mornings, "Europe/London"), None, False, NOW, SHANGHAI)
    in_shanghai = standing_of(_volunteer(mornings), None, False, NOW, SHANGHAI)
    assert in_london == Standing(Duty.ON_CALL, datetime(2026, 5, 6, 13, 0, tzinfo=ZoneInfo("Europe/London")))
    assert in_shanghai == Standing(Duty.OFF_SCHEDULE, datetime(2026, 5, 7, 9, 0, tzinfo=SHANGHAI))

"""Retiring volunteers, residents and devices through the directory file: ``active = false`` and
``import --prune`` retire them, a retired volunteer is never asked again (tiers and nearest-first
lists), a retired resident's devices retire with her, and nobody is retired behind an alert's back
(refused, or with a hand-back, the alert goes back to escalation)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.actions.alert_actions import Taker
from monitor.alerts.lifecycle import AlertKind, Outcome
from monitor.core.effects import Effects
from monitor.core.errors import UserError
from monitor.directory.model import Directory
from monitor.directory.retire import HandBack, retirement_preview
from monitor.directory.rules import SECTIONS, entry_problems, known_in_database
from monitor.directory.sync import import_directory
from monitor.escalation.policy import policy_id_for
from monitor.oncall.roster import load_roster
from monitor.store.models import Alert, Area, Device, Resident, Volunteer
from tests.escalation.kit import NEAREST_FIRST, SHANGHAI, SUN_LI, World, directory, phones, world
from tests.oncall.kit import CHEN_JING, FAR, LI_MING, TWO_TIERS, ZHANG_WEI


def marked_inactive(file: Directory, *volunteer_ids: str) -> Directory:
    """``file`` with ``active = false`` on these volunteers' entries."""
    volunteers = [
        volunteer.model_copy(update={"active": False}) if volunteer.id in volunteer_ids else volunteer
        for volunteer in file.volunteers
    ]
    return file.model_copy(update={"volunteers": volunteers})


def without(file: Directory, *volunteer_ids: str, section: str = "volunteers") -> Directory:
    """``file`` no longer listing these volunteers (or entries of ``section``)."""
    kept = [entry for entry in getattr(file, section) if entry.id not in volunteer_ids]
    return file.model_copy(update={section: kept})


def retired_in_file(file: Directory, section: str, *ids: str) -> Directory:
    """``file`` with ``active = false`` on these entries of ``section`` (residents, devices)."""
    entries = [
        entry.model_copy(update={"active": False}) if entry.id in ids else entry for entry in getattr(file, section)
    ]
    return file.model_copy(update={section: entries})


async def active_ids(w: World, model: type[Volunteer] | type[Resident] | type[Device] = Volunteer) -> list[str]:
    async with w.database.read() as session:
        return sorted((await session.scalars(select(model.id).where(model.active.is_(True)))).all())


def hand_back_to_escalation(w: World) -> HandBack:
    """What ``callwatch import --reassign`` does: the holder's alert handed back, asked further by the timer."""

    async def hand_back(session: AsyncSession, effects: Effects, alert: Alert, volunteer: Volunteer) -> None:
        taker = Taker.volunteer_taker(volunteer)
        await w.actions.hand_back(
            session, effects, alert, taker=taker, now=w.clock.now(), reason="retired", ask_now=False
        )

    return hand_back


async def test_a_volunteer_marked_inactive_is_retired_and_the_next_sos_never_asks_them(database_url: str) -> None:
    async with world(database_url) as w:
        retiring = marked_inactive(directory(), "v-1")
        summary = await import_directory(w.database, retiring)
        again = await import_directory(w.database, retiring)
        alert_id = await w.raise_sos()
        asks = await w.asks(alert_id)
        back = await import_directory(w.database, directory())  # listed as active again: back on the team
        second = await w.raise_sos("r-3", "btn-3")  # a neighbour of hers in the same area
        asks_after_return = await w.asks(second)

    assert "volunteers retired: v-1 (Li Ming, volunteer)" in summary.lines()
    assert not again.changed_anything and again.retired == {}
    assert phones(asks) == [ZHANG_WEI]  # tier 1 is the area team without Li Ming
    assert back.changed["volunteers"] == 1 and back.retired == {}
    assert sorted(phones(asks_after_return)) == [LI_MING, ZHANG_WEI]


async def test_a_retired_volunteer_leaves_the_nearest_first_list(database_url: str) -> None:
    async with world(database_url, policies=NEAREST_FIRST) as w:
        await import_directory(w.database, marked_inactive(directory(NEAREST_FIRST), "n-1"))
        alert_id = await w.raise_sos("r-n", "btn-n")
        first = await w.asks(alert_id)

    assert phones(first) == [FAR]  # the near neighbour retired: the far friend is the nearest now


async def test_prune_retires_whom_the_file_no_longer_lists_once(database_url: str) -> None:
    async with world(database_url) as w:
        smaller = without(directory(), "v-4", "lead-2")
        plain = await import_directory(w.database, smaller)
        preview = await retirement_preview(w.database, smaller, prune=SECTIONS)
        pruned = await import_directory(w.database, smaller, prune=SECTIONS)
        again = await import_directory(w.database, smaller, prune=SECTIONS)
        left = await active_ids(w)

    assert plain.retired == {}  # without --prune, missing entries are left as they are
    assert preview == {"volunteers": ["lead-2 (Gao Yan, leader)", "v-4 (Sun Li, volunteer)"]}
    assert pruned.retired == preview and pruned.changed_anything
    assert not again.changed_anything
    assert "v-4" not in left and "lead-2" not in left and "v-1" in left


async def test_a_volunteer_holding_an_alert_is_not_retired_until_it_ends(database_url: str) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        await w.reply(LI_MING, "ACK")
        with pytest.raises(UserError) as refused:
            await import_directory(w.database, without(directory(), "v-1", "v-4"), prune=SECTIONS)
        left = await active_ids(w)

    assert str(refused.value) == (
        f'volunteer "v-1" (Li Ming) still holds alert {alert_id} (acknowledged); '
        "end that alert or have them hand it back, or import with --reassign to hand it back to escalation, "
        "then import again (nothing was changed)."
    )
    assert "v-1" in left and "v-4" in left  # nothing retired, not even the one without an alert


async def test_a_retired_resident_takes_her_devices_with_her_until_she_is_listed_again(database_url: str) -> None:
    async with world(database_url) as w:
        retiring = retired_in_file(directory(), "residents", "r-3")
        summary = await import_directory(w.database, retiring)
        again = await import_directory(w.database, retiring)
        residents_left, devices_left = await active_ids(w, Resident), await active_ids(w, Device)
        back = await import_directory(w.database, directory())
        devices_back = await active_ids(w, Device)

    assert summary.retired == {
        "residents": ["r-3 (Zhao Min)"],
        "devices": ["btn-3 (button of r-3)", "hall-button (button of r-3)"],
    }
    assert "devices retired: btn-3 (button of r-3), hall-button (button of r-3)" in summary.lines()
    assert not again.changed_anything  # her devices, listed as active, stay retired with her
    assert "r-3" not in residents_left and "r-1" in residents_left
    assert devices_left == ["btn-1", "btn-2", "btn-n"]
    assert back.retired == {} and back.changed["residents"] == 1 and back.changed["devices"] == 2
    assert devices_back == ["btn-1", "btn-2", "btn-3", "btn-n", "hall-button"]


async def test_prune_retires_the_devices_the_file_no_longer_lists(database_url: str) -> None:
    async with world(database_url) as w:
        handed_in = without(directory(), "hall-button", section="devices")
        preview = await retirement_preview(w.database, handed_in, prune=SECTIONS)
        pruned = await import_directory(w.database, handed_in, prune=SECTIONS)
        again = await import_directory(w.database, handed_in, prune=SECTIONS)
        left = await active_ids(w, Device)

    assert preview == {"devices": ["hall-button (button of r-3)"]} == pruned.retired
    assert not again.changed_anything
    assert "hall-button" not in left and "btn-3" in left


async def test_a_resident_or_device_with_an_open_alert_is_not_retired(database_url: str) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos("r-1", "btn-1")
        with pytest.raises(UserError) as device_refused:
            await import_directory(w.database, retired_in_file(directory(), "devices", "btn-1"))
        with pytest.raises(UserError) as resident_refused:
            await import_directory(w.database, without(directory(), "r-1", section="residents"), prune=SECTIONS)
        residents_left, devices_left = await active_ids(w, Resident), await active_ids(w, Device)

    nobody = "and there is nobody to hand it to; end that alert (resolve or cancel it at the console), "
    assert str(device_refused.value) == (
        f'device "btn-1" has alert {alert_id} (sos, open), {nobody}then import again (nothing was changed).'
    )
    assert str(resident_refused.value) == (
        f'resident "r-1" (王秀英) has alert {alert_id} (sos, open), {nobody}then import again (nothing was changed).'
    )
    assert "r-1" in residents_left and "btn-1" in devices_left


async def test_a_retiring_volunteers_alert_is_handed_back_to_escalation(database_url: str) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        await w.reply(LI_MING, "ACK")
        summary = await import_directory(
            w.database, without(directory(), "v-1"), prune=SECTIONS, hand_back=hand_back_to_escalation(w)
        )
        handed_back = await w.alert(alert_id)
        await w.after(seconds=1)  # a running monitor's escalation timer takes it from here
        asks = await w.asks(alert_id)
        log = await w.log(alert_id, "reopened")

    assert summary.retired == {"volunteers": ["v-1 (Li Ming, volunteer)"]} and summary.handed_back == [alert_id]
    assert "alerts handed back to escalation: " + str(alert_id) in summary.lines()
    assert (handed_back.state, handed_back.acknowledged_by) == ("open", None)
    assert phones(asks) == [LI_MING, ZHANG_WEI, CHEN_JING]  # tier 1 before, the area leader now
    assert [entry.detail for entry in log] == ["Li Ming handed it back: retired"]


async def test_a_retired_volunteer_is_told_once_when_the_config_says_so(database_url: str) -> None:
    async with world(database_url) as w:
        await import_directory(w.database, marked_inactive(directory(), "v-2"))  # [sms] tell_retired off
        await import_directory(w.database, marked_inactive(directory(), "v-4"), tell_retired=True)
        await import_directory(w.database, marked_inactive(directory(), "v-4"), tell_retired=True)
        await import_directory(w.database, directory(), tell_retired=True)  # back on the team ...
        await import_directory(
            w.database, without(directory(), "v-4"), prune=SECTIONS, tell_retired=True
        )  # ... and off
        told = await w.notifications(purpose="retired")

    assert [(sms.phone, sms.body) for sms in told] == [
        (SUN_LI, "您已退出本社区的求助志愿者名单，今后不会再收到求助短信。感谢您一直以来的帮助！")
    ]


async def test_a_dry_run_shows_what_an_import_would_do_and_writes_nothing(database_url: str) -> None:
    async with world(database_url) as w:
        changed = retired_in_file(without(directory(), "v-4"), "residents", "r-3")
        dry = await import_directory(w.database, changed, prune=SECTIONS, dry_run=True)
        volunteers, residents, devices = await active_ids(w), await active_ids(w, Resident), await active_ids(w, Device)
        real = await import_directory(w.database, changed, prune=SECTIONS)

    assert (
        dry.retired
        == real.retired
        == {
            "volunteers": ["v-4 (Sun Li, volunteer)"],
            "residents": ["r-3 (Zhao Min)"],
            "devices": ["btn-3 (button of r-3)", "hall-button (button of r-3)"],
        }
    )
    assert "v-4" in volunteers and "r-3" in residents and "btn-3" in devices  # the dry run changed nothing


def moved(file: Directory, section: str, entry_id: str, **values: object) -> Directory:
    """``file`` with these values on one entry of ``section``."""
    entries = [entry.model_copy(update=values) if entry.id == entry_id else entry for entry in getattr(file, section)]
    return file.model_copy(update={section: entries})


def resolved(w: World, alert_id: int) -> Callable[[AsyncSession, Effects], Awaitable[None]]:
    """Work resolving the (taken) alert, as duty staff do at the console."""

    async def work(session: AsyncSession, effects: Effects) -> None:
        alert = await session.get(Alert, alert_id)
        assert alert is not None
        await w.actions.resolve(
            session, effects, alert, actor="user:duty", by="duty", now=w.clock.now(), outcome=Outcome.FALSE_ALARM
        )

    return work


#: A policy of its own for missed check-ins, and one an area may follow at night.
KIND_AND_NIGHT_POLICIES = (
    TWO_TIERS
    + """
[[policies]]
id = "checkins"
kinds = ["missed_checkin"]
tiers = [{ notify = ["area"], ack_timeout_s = 600 }]

[[policies]]
id = "night"
tiers = [{ notify = ["role:leader"], ack_timeout_s = 60 }]
"""
)


async def test_an_area_is_retired_only_once_nobody_and_no_alert_is_left_in_it(database_url: str) -> None:
    async with world(database_url) as w:
        hexi_retired = retired_in_file(directory(), "areas", "a-2")
        with pytest.raises(UserError) as people_left:
            await import_directory(w.database, hexi_retired)
        with pytest.raises(UserError) as pruned_with_people:
            await import_directory(w.database, without(directory(), "a-n", section="areas"), prune=SECTIONS)
        alert_id = await w.raise_sos("r-2", "btn-2")
        moved_out = moved(moved(hexi_retired, "residents", "r-2", area="a-1"), "volunteers", "v-4", areas=["a-1"])
        moved_out = retired_in_file(moved_out, "volunteers", "v-5")  # Zhou Min leaves with it
        with pytest.raises(UserError) as alert_left:
            await import_directory(w.database, moved_out)
        await w.reply(SUN_LI, "ACK")
        await w.write(resolved(w, alert_id))
        summary = await import_directory(w.database, moved_out)
        again = await import_directory(w.database, moved_out)
        async with w.database.read() as session:
            known = await known_in_database(session)
            problems = [
                p.sentence for p in entry_problems(moved_out.residents[0].model_copy(update={"area": "a-2"}), known)
            ]
            roster = await load_roster(session, w.clock.now(), SHANGHAI)

    assert str(people_left.value) == (
        'area "a-2" (Hexi 1) is still used by resident r-2 (Margaret Chen); volunteers v-4 (Sun Li), v-5 (Zhou Min); '
        "move them to another area or retire them, then import again (nothing was changed)."
    )
    assert str(pruned_with_people.value).startswith(
        'area "a-n" (Riverside) is still used by resident r-n (Ada Byrne); volunteers '
    )
    assert str(alert_left.value) == (
        f'area "a-2" (Hexi 1) is still used by alert {alert_id} (sos, open); '
        "end those alerts (resolve or cancel them at the console), then import again (nothing was changed)."
    )
    assert summary.retired == {"volunteers": ["v-5 (Zhou Min, volunteer)"], "areas": ["a-2 (Hexi 1)"]}
    assert "areas retired: a-2 (Hexi 1)" in summary.lines()
    assert not again.changed_anything
    assert problems == ['area "a-2" is retired; choose another or bring it back']
    assert [area.area_id for area in roster.areas] == ["a-n", "a-1"]  # no gap reported for a retired area


async def test_a_policy_is_retired_only_once_no_area_or_alert_follows_it(database_url: str) -> None:
    async with world(database_url, policies=KIND_AND_NIGHT_POLICIES) as w:
        with pytest.raises(UserError) as areas_follow:
            await import_directory(
                w.database, retired_in_file(directory(KIND_AND_NIGHT_POLICIES), "policies", "default")
            )
        at_night = moved(directory(KIND_AND_NIGHT_POLICIES), "areas", "a-1", policy="night")
        await import_directory(w.database, at_night)
        alert_id = await w.raise_sos()  # follows "night"
        with pytest.raises(UserError) as alert_follows:
            await import_directory(w.database, retired_in_file(directory(KIND_AND_NIGHT_POLICIES), "policies", "night"))
        checkins_retired = retired_in_file(at_night, "policies", "checkins")
        summary = await import_directory(w.database, checkins_retired)
        async with w.database.read() as session:
            area = await session.get(Area, "a-2")
            missed_checkin_follows = await policy_id_for(session, AlertKind.MISSED_CHECKIN, area)

    assert str(areas_follow.value) == (
        'policy "default" is still used by areas a-1 (Tianxian 3), a-2 (Hexi 1), a-n (Riverside); '
        "give those areas another policy or retire them, then import again (nothing was changed)."
    )
    assert str(alert_follows.value) == (
        f'policy "night" is still used by alert {alert_id} (sos, open); '
        "end those alerts (resolve or cancel them at the console), then import again (nothing was changed)."
    )
    assert summary.retired == {"policies": ["checkins"]}
    assert missed_checkin_follows == "default"  # a retired policy no longer catches its kinds

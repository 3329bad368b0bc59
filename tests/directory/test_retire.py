"""Retiring volunteers through the directory file: ``active = false`` and ``import --prune``
retire them, a retired volunteer is never asked again (tiers and nearest-first lists), and
someone holding an alert is not retired behind its back."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from monitor.core.errors import UserError
from monitor.directory.model import Directory
from monitor.directory.retire import retirement_preview
from monitor.directory.sync import import_directory
from monitor.store.models import Volunteer
from tests.escalation.kit import NEAREST_FIRST, World, directory, phones, world
from tests.oncall.kit import FAR, LI_MING, ZHANG_WEI


def marked_inactive(file: Directory, *volunteer_ids: str) -> Directory:
    """``file`` with ``active = false`` on these volunteers' entries."""
    volunteers = [
        volunteer.model_copy(update={"active": False}) if volunteer.id in volunteer_ids else volunteer
        for volunteer in file.volunteers
    ]
    return file.model_copy(update={"volunteers": volunteers})


def without(file: Directory, *volunteer_ids: str) -> Directory:
    """``file`` no longer listing these volunteers."""
    kept = [volunteer for volunteer in file.volunteers if volunteer.id not in volunteer_ids]
    return file.model_copy(update={"volunteers": kept})


async def active_ids(w: World) -> list[str]:
    async with w.database.read() as session:
        return sorted((await session.scalars(select(Volunteer.id).where(Volunteer.active.is_(True)))).all())


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
    assert not again.changed_anything and again.retired == []
    assert phones(asks) == [ZHANG_WEI]  # tier 1 is the area team without Li Ming
    assert back.changed["volunteers"] == 1 and back.retired == []
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
        preview = await retirement_preview(w.database, smaller, prune=True)
        pruned = await import_directory(w.database, smaller, prune=True)
        again = await import_directory(w.database, smaller, prune=True)
        left = await active_ids(w)

    assert plain.retired == []  # without --prune, missing entries are left as they are
    assert preview == ["lead-2 (Gao Yan, leader)", "v-4 (Sun Li, volunteer)"]
    assert pruned.retired == preview and pruned.changed_anything
    assert not again.changed_anything
    assert "v-4" not in left and "lead-2" not in left and "v-1" in left


async def test_a_volunteer_holding_an_alert_is_not_retired_until_it_ends(database_url: str) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos()
        await w.reply(LI_MING, "ACK")
        with pytest.raises(UserError) as refused:
            await import_directory(w.database, without(directory(), "v-1", "v-4"), prune=True)
        left = await active_ids(w)

    assert str(refused.value) == (
        f'volunteer "v-1" (Li Ming) still holds alert {alert_id} (acknowledged); '
        "end that alert or have them hand it back, then import again (nothing was changed)."
    )
    assert "v-1" in left and "v-4" in left  # nothing retired, not even the one without an alert

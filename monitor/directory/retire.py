"""Retiring volunteers through the directory file: retire, don't break.

A volunteer whose entry says ``active = false`` is retired; with ``prune`` (``callwatch import
--prune``), so is every active volunteer the file no longer lists. A retired volunteer keeps
their row (alerts and logs name them) but is never asked again: every audience, schedule and
nearest-first list reads active volunteers only (``monitor.oncall.people``). Listing them again
with ``active = true`` (the default) brings them back.

Someone who holds an alert (took it, is on the way or there) is not retired behind that
alert's back: the import is refused, naming the alert, until it is ended or handed back.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.alerts.lifecycle import TAKEN
from monitor.core.errors import UserError
from monitor.directory import model as file_model
from monitor.store import models
from monitor.store.database import Database


async def volunteers_to_retire(
    session: AsyncSession, directory: file_model.Directory, *, prune: bool
) -> list[models.Volunteer]:
    """The active volunteers this import retires, in id order: those the file marks
    ``active = false`` and, with ``prune``, those it does not list."""
    listed = {volunteer.id: volunteer.active for volunteer in directory.volunteers}
    active = await session.scalars(
        select(models.Volunteer).where(models.Volunteer.active.is_(True)).order_by(models.Volunteer.id)
    )
    return [volunteer for volunteer in active if listed.get(volunteer.id, not prune) is False]


async def refuse_while_holding_alerts(session: AsyncSession, leaving: Sequence[models.Volunteer]) -> None:
    """Raise a UserError naming the first alert a leaving volunteer still holds."""
    if not leaving:
        return
    names = {volunteer.id: volunteer.name for volunteer in leaving}
    held = await session.scalar(
        select(models.Alert)
        .where(models.Alert.acknowledged_by.in_(names), models.Alert.state.in_(TAKEN))
        .order_by(models.Alert.id)
        .limit(1)
    )
    if held is not None:
        volunteer_id = str(held.acknowledged_by)
        raise UserError(
            f'volunteer "{volunteer_id}" ({names[volunteer_id]}) still holds alert {held.id} ({held.state}); '
            "end that alert or have them hand it back, then import again (nothing was changed)."
        )


def retire(leaving: Sequence[models.Volunteer]) -> None:
    for volunteer in leaving:
        volunteer.active = False


def described(volunteers: Sequence[models.Volunteer]) -> list[str]:
    """``v-3 (Sun Li, volunteer)``: one line per volunteer, for the import's summary and prompt."""
    return [f"{volunteer.id} ({volunteer.name}, {volunteer.role})" for volunteer in volunteers]


async def retirement_preview(database: Database, directory: file_model.Directory, *, prune: bool) -> list[str]:
    """Who importing ``directory`` would retire, described, without changing anything."""
    async with database.read() as session:
        return described(await volunteers_to_retire(session, directory, prune=prune))

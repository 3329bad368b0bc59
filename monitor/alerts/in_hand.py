"""A resident's alert that someone still has to act on: open, or taken and not yet resolved.

A second press while help is on its way, a late check-in, a resident walking back into her
safe zone: each is about the alert already in hand, never a new one. The statement is built
once per set of kinds (see ``monitor.store.statements`` for what that buys).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.alerts.lifecycle import TAKEN, AlertKind, AlertState
from monitor.store.models import Alert

#: The states of an alert someone still has to act on.
IN_HAND: tuple[AlertState, ...] = (AlertState.OPEN, *TAKEN)


@cache
def latest_in_hand(kinds: frozenset[AlertKind]) -> Select[Alert]:
    """A resident's latest alert of ``kinds`` still in hand, locked for update (bind ``resident_id``)."""
    return (
        select(Alert)
        .where(
            Alert.resident_id == bindparam("resident_id"),
            Alert.kind.in_(sorted(kind.value for kind in kinds)),
            Alert.state.in_([state.value for state in IN_HAND]),
        )
        .order_by(Alert.id.desc())
        .limit(1)
        .with_for_update()
    )


async def in_hand(session: AsyncSession, resident_id: str, kinds: Iterable[AlertKind]) -> Alert | None:
    """The resident's latest alert of ``kinds`` that someone still has to act on, locked."""
    found: Alert | None = await session.scalar(latest_in_hand(frozenset(kinds)), {"resident_id": resident_id})
    return found

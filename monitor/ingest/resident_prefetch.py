"""Tuning: a batch's residents brought into the session in one query before its alert handling.

What it buys: the alert handler looks a resident up with ``session.get`` for every position from
a device whose resident has a safe zone (``monitor.watch.geofence``). The session answers that
from its identity map when the resident is already there; otherwise with a SELECT, which first
flushes the previous message's change to its device: two statements per such position. One
SELECT per batch brings them all in. A batch of 200 messages, 30 % of them positions in safe
zones: 140 statements and 51.9 ms of CPU per batch, against 272 and 86.6 ms without
(`python -m bench.tuning residents`, bench/results/2026-12-07-tuning.md). A batch with SOS
presses gains nothing from it (their handling reads the resident with its own query) and pays
one SELECT.

The identity map holds its objects weakly: the residents stay in it only while something refers
to them, which is what the ``async with`` block of ``residents_at_hand`` does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.store.models import Resident

RESIDENTS = select(Resident).where(Resident.id.in_(bindparam("resident_ids", expanding=True)))


@asynccontextmanager
async def residents_at_hand(session: AsyncSession, resident_ids: Collection[str]) -> AsyncIterator[Sequence[Resident]]:
    """These residents in ``session``'s identity map until the block ends (one query; none for
    fewer than two, where a lookup of its own costs the same)."""
    residents: Sequence[Resident] = ()
    if len(resident_ids) >= 2:
        residents = (await session.scalars(RESIDENTS, {"resident_ids": list(resident_ids)})).all()
    yield residents  # referred to from this frame until the block ends

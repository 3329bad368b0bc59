"""Many small writes of one kind, committed together.

Recording that an SMS reached the provider, or applying one of its delivery reports, is a
tiny transaction; an alarm storm makes thousands of them, and one commit each (one at a
time on SQLite) is what made storm SMS late. A ``GroupCommit`` gathers the writes that
arrive while a commit is under way and commits them in the next one. Each caller still
returns only once its own write is committed, so nothing is acknowledged earlier than
before, and a write that fails inside a group is tried again alone, so one bad row cannot
take its neighbours down with it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.core.effects import AfterCommit, Effects
from monitor.store.database import Database

log = logging.getLogger(__name__)
Item = TypeVar("Item")
#: the write for one item, inside the group's transaction
Write = Callable[[AsyncSession, Item, Effects], Awaitable[None]]


class GroupCommit(Generic[Item]):
    def __init__(
        self,
        database: Database,
        write: Write[Item],
        *,
        after_commit: AfterCommit,
        max_group: int = 200,
        bookkeeping: bool = False,
    ) -> None:
        self.database = database
        self.write = write
        self.after_commit = after_commit
        self.max_group = max_group
        #: see ``Database.write``: waits while an urgent burst is under way
        self.bookkeeping = bookkeeping
        self._waiting: list[tuple[Item, asyncio.Future[None]]] = []
        self._committer: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> None:
        """Write ``item``; return once it is committed (raise what its write raised)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_waiting(), name="group-commit")
        await done

    async def _commit_waiting(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting[: self.max_group], self._waiting[self.max_group :]
            try:
                effects = await self._commit([item for item, _ in group])
            except Exception as error:
                if len(group) == 1:
                    _settle(group[0][1], error)
                else:
                    await self._commit_one_by_one(group)
                continue
            await self._after(effects, group)

    async def _commit_one_by_one(self, group: Sequence[tuple[Item, asyncio.Future[None]]]) -> None:
        for item, done in group:
            try:
                effects = await self._commit([item])
            except Exception as error:
                _settle(done, error)
            else:
                await self._after(effects, [(item, done)])

    async def _commit(self, items: Sequence[Item]) -> Effects:
        async def write_all(session: AsyncSession) -> Effects:
            effects = Effects()
            for item in items:
                await self.write(session, item, effects)
            return effects

        return await self.database.transact(write_all, bookkeeping=self.bookkeeping)

    async def _after(self, effects: Effects, group: Sequence[tuple[Item, asyncio.Future[None]]]) -> None:
        """What follows the commit; the writes stand whatever happens here, so they are not redone."""
        try:
            await self.after_commit(effects)
        except Exception:
            log.exception("after a group commit of %d writes", len(group))
        for _, done in group:
            _settle(done, None)


def _settle(done: asyncio.Future[None], error: Exception | None) -> None:
    if done.done():  # its caller was cancelled: the write stands, nobody is waiting for it
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)

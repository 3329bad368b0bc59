"""Small writes arriving together share commits, and each caller still learns its own outcome."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.core.effects import Effects
from monitor.store.database import Database
from monitor.store.group_commit import GroupCommit


class Refused(Exception):
    pass


async def test_writes_arriving_together_share_commits_and_a_bad_one_fails_alone(tmp_path: Path) -> None:
    commits: list[set[int]] = []  # what each commit held, as its after-commit step saw it

    async def write(session: AsyncSession, item: int, effects: Effects) -> None:
        await session.execute(text("SELECT 1"))
        if item == 13:
            raise Refused(item)
        effects.changed_alert_ids.add(item)

    async def after_commit(effects: Effects) -> None:
        commits.append(set(effects.changed_alert_ids))

    async with Database(f"sqlite+aiosqlite:///{tmp_path / 'group.db'}") as database:
        group = GroupCommit(database, write, after_commit=after_commit, max_group=50)
        outcomes = await asyncio.gather(*(group.submit(item) for item in range(100)), return_exceptions=True)

    assert [item for item, outcome in enumerate(outcomes) if outcome is not None] == [13]
    assert isinstance(outcomes[13], Refused)
    committed = [item for held in commits for item in held]
    assert sorted(committed) == [item for item in range(100) if item != 13]  # each good write once
    # the group holding 13 was redone one by one; the other group went in one commit
    assert {50, 51, 99} <= max(commits, key=len) and len(commits) == 1 + 49


async def test_a_caller_returns_only_after_its_commit(tmp_path: Path) -> None:
    seen_after_commit: list[int] = []

    async def write(session: AsyncSession, item: int, effects: Effects) -> None:
        await session.execute(text("SELECT 1"))
        effects.changed_alert_ids.add(item)

    async def after_commit(effects: Effects) -> None:
        seen_after_commit.extend(effects.changed_alert_ids)

    async with Database(f"sqlite+aiosqlite:///{tmp_path / 'group.db'}") as database:
        group = GroupCommit(database, write, after_commit=after_commit)
        await group.submit(7)
        assert seen_after_commit == [7]

"""The feed of alert changes between monitors (monitor/live_postgres.py) on a real PostgreSQL:
one monitor's announcement reaches the other's subscribers and not its own twice, and a feed
whose connection is killed comes back by itself, telling its consoles to re-read everything."""

from __future__ import annotations

import asyncio

from monitor.live.changes import AlertChanges
from monitor.live.postgres import APPLICATION_NAME, PostgresAlertFeed
from simulator.harness.postgres import plain_connection

WITHIN_S = 5.0


async def test_changes_cross_between_monitors_and_survive_a_lost_connection(database_url: str) -> None:
    changes_a, changes_b = AlertChanges(), AlertChanges()
    async with (
        PostgresAlertFeed(database_url, changes_a) as feed_a,
        PostgresAlertFeed(database_url, changes_b) as feed_b,
    ):
        await asyncio.wait_for(asyncio.gather(feed_a.listening.wait(), feed_b.listening.wait()), WITHIN_S)

        async with changes_a.subscribe() as on_a, changes_b.subscribe() as on_b:
            feed_a.announce([7, 8])
            assert await asyncio.wait_for(on_b.next_changes(), WITHIN_S) == {7, 8}
            feed_b.announce([9])
            assert await asyncio.wait_for(on_a.next_changes(), WITHIN_S) == {9}, "A hears B, never its own 7 and 8"

            # The server drops both connections (a restart, a network cut): each feed reconnects, then
            # asks its consoles to re-read everything, since what was announced meanwhile is lost.
            async with plain_connection(database_url) as admin:
                terminated = await admin.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = $1",
                    APPLICATION_NAME,
                )
            assert terminated == 2
            assert await asyncio.wait_for(on_a.next_changes(), WITHIN_S) == set(), "A's consoles re-read all"
            assert await asyncio.wait_for(on_b.next_changes(), WITHIN_S) == set(), "B's consoles re-read all"
            feed_a.announce([10])
            assert await asyncio.wait_for(on_b.next_changes(), WITHIN_S) == {10}

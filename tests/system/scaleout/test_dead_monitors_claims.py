"""The asks a monitor had claimed when it died go out from a survivor within the failover bound.

Urgent asks are born claimed by the transaction that queues them, named after the monitor
that committed it; that monitor sends them right after the commit. If it dies first, a
survivor must not wait out the send lease (30 s by default): once the holder has been silent
for ``[mqtt] failover_s`` / 2 it is dead, and the survivor settles its claims (asking the
provider first) and sends each once. A holder still alive keeps its claims.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from monitor.config.settings import MqttSettings
from monitor.core.clock import SystemClock
from monitor.core.metrics import Metrics
from tests.notify.kit import outbox_for
from tests.system.scaleout.engines import Engines, FakeProvider, ProviderView, open_due_alerts, prepare

GONE_AFTER = timedelta(seconds=MqttSettings().gone_after_s)
#: the send lease as shipped: far longer than the failover bound
SEND_LEASE_S = 30.0


class Later:
    """The survivor's clock, ``ahead`` of the real one: time passes without waiting for it."""

    def __init__(self) -> None:
        self.ahead = timedelta()

    def now(self) -> datetime:
        return SystemClock().now() + self.ahead


async def test_a_dead_monitors_claimed_asks_are_sent_once_by_a_survivor_before_the_lease_runs_out(
    tmp_path: Path, database_url: str
) -> None:
    await prepare(database_url, tmp_path)
    provider = FakeProvider()
    clock = Later()
    async with Engines(database_url, provider, "dead") as dead, Engines(database_url, provider, "survivor") as alive:
        survivor = outbox_for(
            alive.database,
            {"sms": ProviderView(provider)},
            clock,
            metrics=Metrics(),
            instance_id="survivor",
            lease_s=SEND_LEASE_S,
            gone_after_s=GONE_AFTER.total_seconds(),
        )
        await dead.outbox.share_rate()  # noted alive, as each monitor's upkeep does
        await open_due_alerts(dead.database, 3)
        await dead.timer.run_due()  # the next tier's asks, born claimed by "dead"; it dies before sending
        asks = len(dead.claimed)
        assert asks >= 3

        clock.ahead = GONE_AFTER / 2
        await survivor.recover_stale()
        assert await survivor.send_due() == 0, "a holder silent for less than the bound keeps its claims"

        clock.ahead = GONE_AFTER + timedelta(seconds=1)
        await survivor.recover_stale()
        sent = await survivor.send_due()
        await survivor.recover_stale()
        again = await survivor.send_due()

    assert sent == asks and again == 0
    assert len(provider.requests) == asks, "each ask went out once"
    assert len({(request.to, request.message.text) for request in provider.requests}) == asks

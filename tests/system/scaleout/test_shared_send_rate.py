"""Monitors on one database share the sender's rate at the provider.

Each monitor's gate keeps its own queue, most urgent first; if each sent at the sender's full
rate, the provider would queue the excess first come, first served. So each takes the rate
divided by the monitors running: a second one halves it, one that stops hands its share
back at once, and one that died is counted only until its last note is old.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from monitor.config.settings import MqttSettings
from monitor.core.clock import SystemClock
from monitor.notify.rate_share import monitors_running
from tests.system.scaleout.engines import Engines, FakeProvider, prepare

SENDER_RATE = 1000.0  # what tests.system.scaleout.engines configures
#: a monitor silent this long no longer counts: [mqtt] failover_s / 2 by default
GONE_AFTER = timedelta(seconds=MqttSettings().gone_after_s)
#: the SMS channel's one provider in these engines: its gate
SENDER = ("sms", "fake")


async def test_monitors_share_the_senders_rate_and_take_back_the_share_of_one_that_stops(
    tmp_path: Path, database_url: str
) -> None:
    await prepare(database_url, tmp_path)
    provider = FakeProvider()
    async with Engines(database_url, provider, "a") as first, Engines(database_url, provider, "b") as second:
        await first.outbox.share_rate()
        alone = first.outbox.gates[SENDER].rate_per_s
        await second.outbox.share_rate()
        await first.outbox.share_rate()
        together = (first.outbox.gates[SENDER].rate_per_s, second.outbox.gates[SENDER].rate_per_s)
        await second.outbox.leave()
        await first.outbox.share_rate()
        after_second_stopped = first.outbox.gates[SENDER].rate_per_s

        # A monitor that died says nothing more: once its last note is old, it no longer counts.
        later = SystemClock().now() + GONE_AFTER * 2
        await monitors_running(second.database, "died", SystemClock().now(), GONE_AFTER)
        with_the_dead_one = await monitors_running(first.database, "a", SystemClock().now(), GONE_AFTER)
        after_it_went_quiet = await monitors_running(first.database, "a", later, GONE_AFTER)

    assert alone == SENDER_RATE
    assert together == (SENDER_RATE / 2, SENDER_RATE / 2)
    assert after_second_stopped == SENDER_RATE
    assert with_the_dead_one == 2
    assert after_it_went_quiet == 1

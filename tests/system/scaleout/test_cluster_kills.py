"""Three monitors on one PostgreSQL and one broker, under load with SOS presses mixed in; twice,
one of them (chosen at random) SIGKILLed at a random moment and restarted a few seconds later:
a short run of `python -m bench.cluster_faults`, in a child process as a developer runs it.

Every SOS raises exactly one alert, every SMS goes exactly once per (alert, recipient, tier,
round), no timer runs early, and the survivors keep every timer and every SMS on time: a tier
is at most a lease late, and an SMS the dead monitor had claimed is sent by another within
about a lease (it is checked with the provider first).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.campaigns import run_campaign
from tests.support.databases import POSTGRES_ENV, postgres_url

pytestmark = pytest.mark.skipif(not postgres_url(), reason=f"several monitors need PostgreSQL: set {POSTGRES_ENV}")

MONITORS = 3
KILLS = 2
#: presses around each kill in bench/cluster_faults.py: one before, two while the monitor is dead, one after
PRESSES_PER_KILL = 4
#: [sms] send_lease_s in the deployment's config (simulator/harness/deployment.py)
LEASE_S = 2.0
#: a claimed SMS goes again once its lease ran out and the next upkeep pass (every lease / 3) found it
SMS_WITHIN_S = 2 * LEASE_S + 1.0


def test_a_monitor_killed_among_three_loses_delays_and_duplicates_nothing(tmp_path: Path) -> None:
    report = run_campaign(
        tmp_path, "bench.cluster_faults", "--monitors", str(MONITORS), "--kills", str(KILLS), "--seed", "7"
    )
    assert report["kills"] == KILLS
    assert report["presses"] == KILLS * PRESSES_PER_KILL
    assert report["messages_accepted"] > 0 and report["timers"] == 2 * report["presses"]
    assert report["problems"] == []
    assert all(report["messages_per_monitor"]), "the shared subscription gives every monitor a share"
    assert max(report["lateness_s"]) <= LEASE_S, f"a tier ran {max(report['lateness_s']):.2f} s late"
    assert max(report["sms_delay_s"]) <= SMS_WITHIN_S, f"an SMS went {max(report['sms_delay_s']):.2f} s after its step"

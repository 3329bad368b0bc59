"""The monitor SIGKILLed at random moments under load, with SOS presses mixed in: a short run of
bench/faults.py's campaign (`python -m bench.faults kills --kills 20` is the long one), run as a
developer runs it, in a child process: its exit code, verdict and report are checked.

Every message the broker accepted is stored, every press raises exactly one alert, every
SMS goes exactly once per (alert, recipient, tier, round), and every escalation timer runs,
never early.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.campaigns import run_campaign
from tests.support.databases import backends

KILLS = 5
LONGEST_LIFE_S = 4.5


@pytest.mark.parametrize("backend", backends())
def test_random_kills_under_load_lose_and_duplicate_nothing(tmp_path: Path, backend: str) -> None:
    report = run_campaign(
        tmp_path,
        "bench.faults",
        *("kills", "--kills", str(KILLS), "--seed", str(KILLS), "--database", backend),
        *("--longest-life-s", str(LONGEST_LIFE_S)),
    )
    assert report["kills"] == KILLS
    assert report["presses"] == 2 * KILLS
    assert report["messages_accepted"] > 0 and report["timers"] == 2 * report["presses"]
    assert report["problems"] == []

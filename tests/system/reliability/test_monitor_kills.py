"""The monitor SIGKILLed at random moments under load, with SOS presses mixed in (a short run of
bench/faults.py's campaign: `python -m bench.faults kills --kills 20` is the long one).

Every message the broker accepted is stored, every press raises exactly one alert, every
SMS goes exactly once per (alert, recipient, tier, round), and every escalation timer runs,
never early.
"""

from __future__ import annotations

from pathlib import Path

from bench.faults import kill_campaign

KILLS = 5


async def test_random_kills_under_load_lose_and_duplicate_nothing(tmp_path: Path, database_url: str) -> None:
    report = await kill_campaign(tmp_path, database_url, kills=KILLS, seed=KILLS, lives_s=(0.5, 4.5))
    print("\n".join(report.lines()))
    assert report.kills == KILLS
    assert report.presses == 2 * KILLS
    assert report.messages_accepted > 0 and report.timers == 2 * report.presses
    assert report.problems == []

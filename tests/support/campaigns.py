"""A benchmark's fault campaign run by a test, as the benchmark runs: `python -m bench...` in a child process.

Tests do not import the benchmarks (nor they the tests): the campaign is the command a
developer would run, its exit code and printed verdict say whether anything was lost or
duplicated, and its ``--report`` file gives the figures a test checks further.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
#: what a campaign prints when nothing was lost or duplicated (it prints FAILED: ... and exits 1 otherwise)
VERDICT = "nothing lost, nothing duplicated"
WITHIN_S = 600


def run_campaign(folder: Path, module: str, *arguments: str) -> dict[str, Any]:
    """``python -m MODULE ARGUMENTS... --report FILE`` from the repository; its report, once it passed."""
    report_path = folder / "campaign-report.json"
    done = subprocess.run(
        [sys.executable, "-m", module, *arguments, "--report", str(report_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=WITHIN_S,
        check=False,
    )
    print(done.stdout)
    assert done.returncode == 0, f"{module} failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
    assert VERDICT in done.stdout, done.stdout
    report: dict[str, Any] = json.loads(report_path.read_text())
    return report

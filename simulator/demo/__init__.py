"""The pieces of ``callwatch demo``: its directory, its printer, its scenario files
(``simulator/scenarios/demo*.toml``). ``simulator.demo.session`` puts them together."""

from pathlib import Path

#: the demo's scenario files (and the other shipped examples)
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"

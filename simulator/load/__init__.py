"""Load mode: N simulated devices over a few MQTT connections, at a total rate, with presses mixed in."""

from simulator.load.directory import write_directory
from simulator.load.generator import LoadGenerator
from simulator.load.plan import LoadPlan
from simulator.load.report import LoadReport, percentile

__all__ = ["LoadGenerator", "LoadPlan", "LoadReport", "percentile", "write_directory"]

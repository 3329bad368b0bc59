"""Bounded waits: the harness's (``simulator.harness.waiting``), under the name the suites import."""

from simulator.harness.waiting import until

__all__ = ["until"]

"""Measures the report's figures are made of: durations (median, p90, p99) and shares against a target.

Percentiles are nearest-rank: p90 is the smallest time at least 90 % of the alerts beat.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Durations:
    count: int
    median_s: float | None
    p90_s: float | None
    p99_s: float | None

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Durations:
        if not seconds:
            return cls(0, None, None, None)
        ordered = sorted(seconds)
        return cls(len(ordered), statistics.median(ordered), nearest_rank(ordered, 0.90), nearest_rank(ordered, 0.99))


def nearest_rank(ordered: Sequence[float], share: float) -> float:
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass(frozen=True, slots=True)
class Share:
    within: int
    of: int
    target: float

    @property
    def value(self) -> float | None:
        return self.within / self.of if self.of else None

    @property
    def meets_target(self) -> bool | None:
        return None if self.value is None else self.value >= self.target

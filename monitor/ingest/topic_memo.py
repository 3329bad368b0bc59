"""Tuning: which adapters may read a topic, worked out once per topic (``Routes.adapters_for``).

What it buys: every message asks which device families' subscriptions its topic matches.
Matching it against every filter costs 8.7 µs of CPU per message with 10,000 native buttons on
their default topics (2 filters) and 10.4 ms with 10,000 devices of several families under
several prefixes (4,061 filters: one per OwnTracks user); the remembered answer 0.17 µs
(`python -m bench.tuning routes`, bench/results/2026-12-07-tuning.md).

Bounded: anyone allowed to publish can make up topics, so the memo forgets everything once it
holds ``TOPICS_REMEMBERED`` of them (a directory of 100,000 devices uses about two topics each).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

#: how many topics' answers are kept
TOPICS_REMEMBERED = 250_000


class TopicMemo(Generic[T]):
    """Each topic's answer, worked out the first time it is asked for."""

    def __init__(self, limit: int = TOPICS_REMEMBERED) -> None:
        self.limit = limit
        self._answers: dict[str, T] = {}

    def answer(self, topic: str, work_out: Callable[[str], T]) -> T:
        """The remembered answer for ``topic``, or ``work_out(topic)`` remembered."""
        try:
            return self._answers[topic]
        except KeyError:
            pass
        if len(self._answers) >= self.limit:
            self._answers.clear()
        answer = self._answers[topic] = work_out(topic)
        return answer

"""A whole callwatch deployment for one test: the harness's (``simulator.harness.deployment``),
and what only the tests use on top of it (a listener on the devices' feedback topics).

The monitor runs either in-process (``async with deployment.monitor()``) or as a real
`callwatch run` process that tests can SIGKILL (``deployment.process()``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import aiomqtt

from simulator.harness.deployment import Deployment, directory_text
from simulator.harness.mosquitto import Mosquitto
from simulator.harness.neighbourhood import RESIDENT_EN, RESIDENT_ZH, STAFF, STRANGER, TIER1, TIER2

__all__ = [
    "REPO",
    "RESIDENT_EN",
    "RESIDENT_ZH",
    "STAFF",
    "STRANGER",
    "TIER1",
    "TIER2",
    "Deployment",
    "FeedbackListener",
    "directory_text",
]

REPO = Path(__file__).resolve().parents[2]


class FeedbackListener:
    """Collects what the monitor publishes on devices' feedback topics."""

    def __init__(self, broker: Mosquitto) -> None:
        self.broker = broker
        self.received: list[tuple[str, dict[str, object]]] = []
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def __aenter__(self) -> FeedbackListener:
        self._task = asyncio.create_task(self._listen())
        await asyncio.wait_for(self._ready.wait(), timeout=10)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _listen(self) -> None:
        async with aiomqtt.Client(self.broker.host, self.broker.port) as client:
            await client.subscribe("callwatch/+/feedback", qos=1)
            self._ready.set()
            async for message in client.messages:
                payload = json.loads(bytes(message.payload))  # type: ignore[arg-type]
                async with self._changed:
                    self.received.append((message.topic.value, payload))
                    self._changed.notify_all()

    async def wait_for(
        self,
        state: str,
        *,
        topic: str | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - a bounded wait is the point
    ) -> dict[str, object]:
        return await self.eventually(
            lambda payload, seen_topic: payload.get("state") == state and (topic is None or seen_topic == topic),
            timeout=timeout,
        )

    async def eventually(
        self,
        matches: Callable[[dict[str, object], str], bool],
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 - a bounded wait is the point
    ) -> dict[str, object]:
        """The first feedback ``matches(payload, topic)`` accepts, waiting for it if need be."""

        def found() -> dict[str, object] | None:
            return next((payload for seen_topic, payload in self.received if matches(payload, seen_topic)), None)

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: found() is not None), timeout)
        result = found()
        assert result is not None
        return result

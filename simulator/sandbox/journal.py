"""An append-only record that tests can wait on without sleep-polling."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Journal(Generic[T]):
    """Items in the order they happened; ``wait_for`` wakes on every append or ``touch``."""

    def __init__(self) -> None:
        self._items: list[T] = []
        # Set and replaced on every change, so waiters wake once per change and re-check.
        self._changed = asyncio.Event()
        # Bumped when items may have changed in place or vanished: waiters then rescan all.
        self._revision = 0

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._items))

    def append(self, item: T) -> None:
        self._items.append(item)
        self._wake()

    def clear(self) -> None:
        self._items.clear()
        self.touch()

    def touch(self) -> None:
        """Wake waiters after an item changed in place (a message's status moved on)."""
        self._revision += 1
        self._wake()

    def _wake(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def matching(self, predicate: Callable[[T], bool] | None = None) -> list[T]:
        return [item for item in self._items if predicate is None or predicate(item)]

    async def wait_for(
        self,
        count: int,
        predicate: Callable[[T], bool] | None = None,
        *,
        timeout: float | None,  # noqa: ASYNC109 - a bounded wait is the point
        what: str = "items",
    ) -> list[T]:
        """All matching items once there are at least ``count``; TimeoutError after ``timeout``.

        Appends are scanned incrementally, so waiting while thousands of messages arrive
        costs each new item one predicate call.
        """
        found: list[T] = []
        scanned, revision = 0, self._revision
        try:
            async with asyncio.timeout(timeout):
                while True:
                    if revision != self._revision:
                        found, scanned, revision = [], 0, self._revision
                    fresh, scanned = self._items[scanned:], len(self._items)
                    found.extend(item for item in fresh if predicate is None or predicate(item))
                    if len(found) >= count:
                        return found
                    await self._changed.wait()
        except TimeoutError:
            seen = len(self.matching(predicate))
            raise TimeoutError(f"waited {timeout} s for {count} {what}, saw {seen}") from None

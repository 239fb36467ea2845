"""The queue of work items of one worker stream.

Like ``asyncio.Queue`` for its single consumer (the stream's GetWorkItems loop), but a get
with a timeout (the health-ping interval) costs one future and one timer handle instead of
the task ``asyncio.wait_for`` creates per call: the engine sends a work item per workflow step,
so that overhead showed in throughput.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

__all__ = ["WorkQueue"]

T = TypeVar("T")


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class WorkQueue(Generic[T]):
    """FIFO with one consumer. Not thread-safe: used on the engine's event loop only."""

    def __init__(self) -> None:
        self._items: deque[T] = deque()
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: T) -> None:
        self._items.append(item)
        if self._waiter is not None:
            _wake(self._waiter)

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)

    def get_nowait(self) -> T:
        """The oldest item; IndexError when empty."""
        return self._items.popleft()

    async def get(self, timeout: float | None = None) -> T | None:
        """The oldest item, waiting for one; None when ``timeout`` seconds pass first."""
        if not self._items:
            loop = asyncio.get_running_loop()
            waiter = self._waiter = loop.create_future()
            timer = loop.call_later(timeout, _wake, waiter) if timeout is not None else None
            try:
                await waiter
            finally:
                self._waiter = None
                if timer is not None:
                    timer.cancel()
            if not self._items:
                return None
        return self._items.popleft()

"""The per-stream work queue: order, waiting, timeouts (health pings) and wake-ups."""

from __future__ import annotations

import asyncio

from declarative_wf.engine.workqueue import WorkQueue


def test_items_come_out_in_order_without_waiting() -> None:
    queue: WorkQueue[int] = WorkQueue()
    for item in (1, 2, 3):
        queue.put_nowait(item)
    assert queue.qsize() == 3 and not queue.empty()
    assert [asyncio.run(queue.get(0.01)) for _ in range(3)] == [1, 2, 3]
    assert queue.empty()


def test_a_timed_get_returns_none_when_nothing_arrives() -> None:
    async def scenario() -> tuple[int | None, float]:
        queue: WorkQueue[int] = WorkQueue()
        loop = asyncio.get_running_loop()
        started = loop.time()
        item = await queue.get(0.05)
        return item, loop.time() - started

    item, waited = asyncio.run(scenario())
    assert item is None and waited >= 0.045


def test_a_put_wakes_the_waiting_consumer_and_cancels_its_timer() -> None:
    async def scenario() -> list[int | None]:
        queue: WorkQueue[int] = WorkQueue()
        loop = asyncio.get_running_loop()
        loop.call_later(0.01, queue.put_nowait, 7)
        first = await queue.get(5.0)
        # The first wait's timer must not wake a later wait early.
        second = await queue.get(0.05)
        return [first, second]

    assert asyncio.run(scenario()) == [7, None]


def test_a_cancelled_consumer_leaves_the_queue_usable() -> None:
    async def scenario() -> int | None:
        queue: WorkQueue[int] = WorkQueue()
        waiting = asyncio.ensure_future(queue.get())
        await asyncio.sleep(0)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        queue.put_nowait(3)
        return await queue.get(1.0)

    assert asyncio.run(scenario()) == 3

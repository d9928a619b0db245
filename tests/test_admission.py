"""A burst of interactions is started a few per event-loop iteration, in arrival order, so
that one gateway read of hundreds of them doesn't stall the loop (bot.admission)."""

from __future__ import annotations

import asyncio

from bot.admission import Admission


async def count_iterations(ticks: list[int], done: asyncio.Event) -> None:
    """Counts the loop iterations in ``ticks[0]`` (a callback re-queued each time) until
    ``done``."""

    def tick() -> None:
        ticks[0] += 1
        if not done.is_set():
            asyncio.get_running_loop().call_soon(tick)

    asyncio.get_running_loop().call_soon(tick)
    await done.wait()


async def test_a_burst_goes_through_a_few_per_iteration_in_order():
    gate = Admission(per_turn=4)
    started: list[tuple[int, int]] = []  # (who, iteration)
    done = asyncio.Event()
    ticks = [0]

    async def one(i: int) -> None:
        await gate.turn()
        started.append((i, ticks[0]))
        if len(started) == 40:
            done.set()

    counter = asyncio.ensure_future(count_iterations(ticks, done))
    await asyncio.sleep(0)  # the counter runs
    tasks = [asyncio.create_task(one(i)) for i in range(40)]
    await counter
    await asyncio.gather(*tasks)
    assert [i for i, _ in started] == list(range(40))  # first come, first served
    per_iteration: dict[int, int] = {}
    for _, at in started:
        per_iteration[at] = per_iteration.get(at, 0) + 1
    assert max(per_iteration.values()) <= 2 * 4  # (its own turn and the one it was given)
    assert len(per_iteration) >= 40 // 8
    assert gate.waiting == 0


async def test_no_waiting_when_there_is_room():
    gate = Admission(per_turn=2)
    await asyncio.wait_for(gate.turn(), 1)
    await asyncio.wait_for(gate.turn(), 1)
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # a new iteration: a new allowance
    await asyncio.wait_for(gate.turn(), 1)


async def test_a_cancelled_waiter_gives_its_place_up():
    gate = Admission(per_turn=1)
    through = asyncio.create_task(gate.turn())
    first = asyncio.create_task(gate.turn())
    second = asyncio.create_task(gate.turn())
    await asyncio.sleep(0)  # one went through, two wait
    assert through.done() and gate.waiting == 2
    first.cancel()
    await asyncio.wait_for(second, 1)
    assert first.cancelled()
    assert gate.waiting == 0

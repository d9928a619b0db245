"""A shutdown's view of the replies being written (bot/in_flight.py): new writes are refused,
those in flight get the grace period, the rest are stopped (never mid-edit), a second signal
cuts the wait short."""

from __future__ import annotations

import asyncio

from bot.in_flight import Flights


async def a_write(flights: Flights, seconds: float, log: list[str], name: str) -> None:
    with flights.flying() as flight:
        flight.task = asyncio.ensure_future(asyncio.sleep(seconds))
        try:
            await flight.task
            log.append(f"{name} finished")
        except asyncio.CancelledError:
            log.append(f"{name} stopped")


async def test_the_grace_period_lets_short_writes_finish_and_stops_the_rest():
    flights, log = Flights(), []
    writes = [
        asyncio.create_task(a_write(flights, 0.05, log, "short")),
        asyncio.create_task(a_write(flights, 3600, log, "long")),
    ]
    await asyncio.sleep(0)
    await flights.land(grace=0.5)
    assert flights.closing and sorted(log) == ["long stopped", "short finished"]
    await asyncio.gather(*writes)


async def test_a_write_is_not_stopped_in_the_middle_of_an_edit():
    flights, log = Flights(), []
    editing = asyncio.Event()

    async def editing_write() -> None:
        with flights.flying() as flight:
            flight.editing = True
            flight.task = asyncio.ensure_future(asyncio.sleep(0.2))
            editing.set()
            await flight.task  # not cancelled: it ends by itself
            log.append("edit done")

    write = asyncio.create_task(editing_write())
    await editing.wait()
    await flights.land(grace=0)
    assert log == ["edit done"]
    await write


async def test_hurry_ends_the_wait_at_once():
    flights, log = Flights(), []
    write = asyncio.create_task(a_write(flights, 3600, log, "long"))
    await asyncio.sleep(0)
    landing = asyncio.create_task(flights.land(grace=3600))
    await asyncio.sleep(0.05)
    flights.hurry()
    await asyncio.wait_for(landing, 5)
    done, _ = await asyncio.wait({write}, timeout=5)  # stopped, not left to run its hour
    assert write in done and log == ["long stopped"]
    write.cancel()

"""Taking a burst of interactions a few at a time, so that the event loop keeps turning.

Discord may hand a process hundreds of interactions at once (one gateway read holds them all).
discord.py starts a task for each, and asyncio runs every ready task in the same loop
iteration: each one's first stretch (parsing its options, the checks, the command up to its
acknowledgement) adds up to one long stall in which no timer, heartbeat or answer is handled.
:class:`Admission` lets ``per_turn`` of them through per loop iteration, in the order they
came, and the rest wait (a future each, nothing else) for the following iterations. The work
is the same and happens as soon: only spread over iterations, so each stays short.
"""

from __future__ import annotations

import asyncio
from collections import deque

PER_TURN = 16  # interactions started per loop iteration (each ~0.5-1 ms up to its ack)


class Admission:
    def __init__(self, per_turn: int = PER_TURN):
        self.per_turn = per_turn
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._passed = 0  # let through since the last turn
        self._scheduled = False

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    async def turn(self) -> None:
        """Return at once when this iteration has room, else at a following one (in order)."""
        loop = asyncio.get_running_loop()
        if not self._waiting and self._passed < self.per_turn:
            self._passed += 1
            self._schedule(loop)
            return
        waiter = loop.create_future()
        self._waiting.append(waiter)
        self._schedule(loop)
        await waiter  # (cancelled: its place is skipped)

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._next_turn, loop)

    def _next_turn(self, loop: asyncio.AbstractEventLoop) -> None:
        """Once per loop iteration while there is traffic: a new allowance, given first to
        those waiting (their tasks run in the next iteration)."""
        self._scheduled = False
        self._passed = 0
        while self._waiting and self._passed < self.per_turn:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                self._passed += 1
        if self._waiting or self._passed:
            self._schedule(loop)

"""The replies being written, as a shutdown sees them.

Each write is a :class:`Flight` while it runs. :meth:`Flights.land` (the bot's ``close``)
refuses new writes from then on, lets the flights finish for a grace period, then stops the
rest: each ends at once with the text written so far (its writer shows it, with "stopped:
press Continue" and its buttons). A flight is never stopped in the middle of an edit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

from .generation import Generated

log = logging.getLogger(__name__)

LANDING_SECONDS = 10.0  # the most the stopped replies get to show their final text


class Flight:
    """One reply being written: its progress so far, and whether it was told to stop."""

    def __init__(self) -> None:
        self.progress = Generated("", False)
        self.stopping = False
        self.editing = False  # an edit (or its bookkeeping) is under way: don't cancel it
        self.task: asyncio.Future[Generated] | None = None  # the streaming, while it runs
        self.message_id: int | None = None  # once the reply first shows

    @property
    def stopped(self) -> bool:
        return self.stopping and not self.progress.done

    def stop(self) -> None:
        self.stopping = True
        if self.task is not None and not self.editing:
            self.task.cancel()


class Flights:
    def __init__(self) -> None:
        self.closing = False
        self._hurried = False
        self._flights: set[Flight] = set()
        self._changed = asyncio.Event()

    def __len__(self) -> int:
        return len(self._flights)

    @contextlib.contextmanager
    def flying(self) -> Iterator[Flight]:
        flight = Flight()
        self._flights.add(flight)
        try:
            yield flight
        finally:
            self._flights.discard(flight)
            self._changed.set()

    def hurry(self) -> None:
        """Stop waiting (a second SIGTERM): what is still being written is cut short."""
        self._hurried = True
        self._changed.set()

    async def land(self, grace: float) -> None:
        """Refuse new writes; give those in flight ``grace`` seconds; stop the rest and wait
        (a bounded time) until they have shown their final text."""
        self.closing = True
        log.info("shutting down: %d replies in flight, %g s to finish", len(self), grace)
        if not await self._empty(grace):
            log.info("stopping %d replies (they end with 'press Continue')", len(self))
            for flight in list(self._flights):
                flight.stop()
            if not await self._empty(LANDING_SECONDS):
                log.warning("%d replies did not end in time", len(self))

    async def _empty(self, seconds: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while self._flights and not self._hurried:
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), deadline - loop.time())
            except TimeoutError:
                break
        return not self._flights

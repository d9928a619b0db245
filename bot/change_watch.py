"""Changes made by the other bot processes on the same database, seen within about a second.

Every lookup (models, a server's default) reads the database, so a model trained, chosen or
deleted through another process is seen at once; what lives in this process is the loaded
engines. SQLite's own change counter (``PRAGMA data_version``: it moves when another
connection commits) is polled every ``POLL_SECONDS``; when it moves, the engines of models
that are no longer ready (deleted, or being deleted) are closed, as a delete through this
process closes them. The same task refreshes this process's shard rows
(:class:`bot.sharding.ShardClaims`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from jobs.db import Database

from .generation import GenerationService

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25


class ChangeWatcher:
    def __init__(
        self,
        db: Database,
        generation: GenerationService,
        *,
        heartbeat: Callable[[], Awaitable[None]] | None = None,
        heartbeat_seconds: float = 5.0,
        poll_seconds: float = POLL_SECONDS,
    ):
        self.db = db
        self.generation = generation
        self.heartbeat = heartbeat
        self.heartbeat_seconds = heartbeat_seconds
        self.poll_seconds = poll_seconds
        self._version: int | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="change-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        beat = time.monotonic()
        while True:
            try:
                await self.check()
                if self.heartbeat is not None and time.monotonic() - beat >= self.heartbeat_seconds:
                    beat = time.monotonic()
                    await self.heartbeat()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("watching the database for changes failed; will retry")
            await asyncio.sleep(self.poll_seconds)

    async def check(self) -> bool:
        """Close the engines of models gone since the last look; whether anything changed."""
        row = await self.db.fetchone("PRAGMA data_version")
        version = int(row[0])
        changed, self._version = version != self._version, version
        if changed:
            await self.close_gone()
        return changed

    async def close_gone(self) -> None:
        for path in self.generation.loaded_paths():
            row = await self.db.fetchone(
                "SELECT 1 FROM models WHERE path = ? AND status = 'ready'", (path,)
            )
            if row is None:
                log.info("model at %s was deleted by another bot process: closing it", path)
                self.generation.evict(path)

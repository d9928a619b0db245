"""Changes made by the other bot processes on the same database, seen within about a second.

Every lookup (models, a server's default) reads the database, so a model trained, chosen or
deleted through another process is seen at once; what lives in this process is the loaded
engines. When the database changed, the engines of models that are no longer ready (deleted,
or being deleted) are closed, as a delete through this process closes them (never this
machine's built-in models: on several machines each syncs the shared rows to its own folders).
How a change is seen is the one thing that differs between the engines:

- SQLite: its own change counter (``PRAGMA data_version``: it moves when another connection
  commits), polled every ``POLL_SECONDS``;
- PostgreSQL: LISTEN on :data:`CHANNEL`, which a trigger on the models and server settings
  tables notifies (``bot/migrations/postgres``); a lost listening connection is made again
  (with :class:`jobs.backoff.Backoff`), and counts as a change (one may have been missed).

Then the cached copies of deleted models' files go too (:mod:`bot.model_files`). The same
task refreshes this process's shard rows (:class:`bot.sharding.ShardClaims`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from jobs.backoff import Backoff
from jobs.db import Database

from .state_db import StateDatabase

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
CHANNEL = "lstm_bot_state"


class Engines(Protocol):
    def loaded_paths(self) -> list[str]: ...
    def evict(self, path: str) -> None: ...


class ChangeWatcher:
    def __init__(
        self,
        db: StateDatabase,
        generation: Engines,
        *,
        heartbeat: Callable[[], Awaitable[None]] | None = None,
        heartbeat_seconds: float = 5.0,
        poll_seconds: float = POLL_SECONDS,
        keep: Callable[[str], bool] = lambda path: False,
        after_change: Callable[[], Awaitable[None]] | None = None,
    ):
        self.db = db
        self.generation = generation
        self.keep = keep  # paths never closed here: this machine's built-in models
        # run after each change: drop this machine's cached copies of deleted models
        self.after_change = after_change
        self.heartbeat = heartbeat
        self.heartbeat_seconds = heartbeat_seconds
        self.poll_seconds = poll_seconds
        self.ready = asyncio.Event()  # set once watching: later changes will be seen
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

    def _signal(self) -> _DataVersion | _Notifications:
        if isinstance(self.db, Database):  # SQLite
            return _DataVersion(self.db, self.poll_seconds)
        return _Notifications(self.db.url, min(self.heartbeat_seconds, 1.0))

    async def _run(self) -> None:
        beat, backoff, signal = time.monotonic(), Backoff(self.poll_seconds, 5.0), self._signal()
        try:
            while True:
                failed = False
                try:
                    if await signal.changed():
                        await self.close_gone()
                        if self.after_change is not None:
                            await self.after_change()
                    self.ready.set()
                    backoff.reset()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("watching the database for changes failed; will retry")
                    await signal.close()
                    failed = True
                # Whether or not changes can be watched: a silent process loses its shards.
                if self.heartbeat and time.monotonic() - beat >= self.heartbeat_seconds:
                    beat = time.monotonic()
                    await self._beat()
                if failed:
                    await asyncio.sleep(backoff.next())
        finally:
            await signal.close()

    async def _beat(self) -> None:
        try:
            await self.heartbeat()  # type: ignore[misc]
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("refreshing this process's shard claims failed; will retry")

    async def close_gone(self) -> None:
        for path in [p for p in self.generation.loaded_paths() if not self.keep(p)]:
            row = await self.db.fetchone(
                "SELECT 1 FROM models WHERE path = ? AND status = 'ready'", (path,)
            )
            if row is None:
                log.info("model at %s was deleted (seen in the database): closing it", path)
                self.generation.evict(path)


class _DataVersion:
    """SQLite: whether ``PRAGMA data_version`` moved since the last look (the first look:
    yes), looking every ``seconds`` after the first."""

    def __init__(self, db: Any, seconds: float):
        self.db, self.seconds, self._version = db, seconds, None

    async def changed(self) -> bool:
        if self._version is not None:
            await asyncio.sleep(self.seconds)
        version = int((await self.db.fetchone("PRAGMA data_version"))[0])
        changed, self._version = version != self._version, version
        return changed

    async def close(self) -> None:
        self._version = None


class _Notifications:
    """PostgreSQL: whether a notification came within ``seconds`` (just after LISTEN: yes)."""

    def __init__(self, url: str, seconds: float):
        self.url, self.seconds = url, seconds
        self._conn: Any = None  # a psycopg.AsyncConnection (psycopg: the postgres extra)

    async def changed(self) -> bool:
        import psycopg

        if self._conn is None:
            conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
            await conn.execute(f"LISTEN {CHANNEL}")
            self._conn = conn
            return True
        came = False
        async for _ in self._conn.notifies(timeout=self.seconds, stop_after=1):
            came = True
        return came

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with contextlib.suppress(Exception):  # psycopg's: the connection is gone anyway
                await conn.close()

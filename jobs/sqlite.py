"""The embedded engine: the job queue in a SQLite database (by default the bot's own file).

The bot submits jobs and polls their events; worker processes on the same machine claim them.
A claim is a lease (a random token with an expiry, renewed by heartbeats): a worker that dies
stops renewing, and once the lease has expired another worker takes the job over, resuming
from its last stored checkpoint. Every worker write is fenced by the token, so a worker that
lost its lease can change nothing (:class:`LeaseLost`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from pathlib import Path
from typing import Any

from .blobs import check_files
from .db import Database, Migrations
from .errors import LeaseLost
from .queue import Handler
from .records import CORPUS, CORPUS_FILE, Lease
from .store import SqliteStore
from .tables import TableQueue, put_blob

log = logging.getLogger(__name__)

SQLITE_MIGRATIONS = Migrations("jobs.migrations.sqlite", component="jobs", foreign_keys_off=True)


class SqliteQueue(TableQueue):
    def __init__(self, db: Database, **kwargs: Any):
        super().__init__(SqliteStore(db), **kwargs)
        self.db = db

    @classmethod
    async def open(cls, path: str | Path, **kwargs: Any) -> SqliteQueue:
        """A queue on its own connection to the database at ``path`` (made if missing)."""
        queue = cls(await Database(path, [SQLITE_MIGRATIONS]).open(), **kwargs)
        queue._owns_db = True
        await queue.adopt_legacy_corpora()
        return queue

    _owns_db = False

    async def close(self) -> None:
        if self._owns_db:
            await self.db.close()

    async def claim(self, worker_id: str) -> Lease | None:
        """Lease the oldest runnable job: queued and past its backoff, or running with an
        expired lease (its worker died: taken over). Jobs that must not run again are settled
        on the way (cancelled, or out of attempts)."""
        now = self.clock()
        async with self.store.transaction() as tx:
            while True:
                row = await tx.one(
                    "SELECT id FROM jobs WHERE (status = 'queued' AND not_before <= ?)"
                    " OR (status = 'running' AND lease_expires < ?) ORDER BY id LIMIT 1",
                    (now, now),
                )
                if row is None:
                    return None
                lease = await self._begin(tx, int(row["id"]), worker_id)
                if lease is not None:
                    return lease

    async def serve(
        self,
        handler: Handler,
        *,
        worker_id: str,
        stopping: asyncio.Event,
        poll_seconds: float,
        once: bool = False,
        max_idle: float | None = None,
    ) -> None:
        idle_since = time.monotonic()
        while not stopping.is_set():
            lease = await self.claim(worker_id)
            if lease is None:
                if max_idle is not None and time.monotonic() - idle_since >= max_idle:
                    log.info("no job for %.0f s: exiting", max_idle)
                    return
                try:
                    await asyncio.wait_for(stopping.wait(), poll_seconds * random.uniform(0.8, 1.2))
                except TimeoutError:
                    pass
                continue
            try:
                await handler(lease)
            except LeaseLost as exc:
                log.warning("%s; another worker has the job", exc)
            idle_since = time.monotonic()
            if once:
                return

    async def adopt_legacy_corpora(self) -> None:
        """Uploads of jobs queued before files travelled as blobs were files in the bot's
        data directory: store them as blobs (same machine: SQLite is never shared)."""
        rows = await self.store.all(
            "SELECT id, corpus_deleted, legacy_corpus_path FROM jobs"
            " WHERE legacy_corpus_path IS NOT NULL"
        )
        for row in rows:
            path = Path(row["legacy_corpus_path"])
            keep = not row["corpus_deleted"] and path.is_file()
            async with self.store.transaction() as tx:
                if keep:
                    check_files(CORPUS, {CORPUS_FILE: path})
                    part = self.store.chunk_bytes
                    await put_blob(tx, row["id"], CORPUS, CORPUS_FILE, path, time.time(), part)
                await tx.exec(
                    "UPDATE jobs SET legacy_corpus_path = NULL, corpus_deleted = ? WHERE id = ?",
                    (0 if keep else 1, row["id"]),
                )
            if keep:
                path.unlink(missing_ok=True)
                log.info("job %d: its uploaded text now travels with the job", row["id"])


__all__ = ["SQLITE_MIGRATIONS", "SqliteQueue"]

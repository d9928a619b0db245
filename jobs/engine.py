"""Choosing the engine: PostgreSQL (procrastinate) when a queue URL is set, else SQLite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .db import Database
from .queue import JobQueue
from .sqlite import SqliteQueue


async def open_queue(
    *,
    queue_url: str | None,
    database_path: str | Path | None = None,
    db: Database | None = None,
    **kwargs: Any,
) -> JobQueue:
    """The queue at ``queue_url`` (PostgreSQL; its schema must be migrated: ``lstm-bot db
    migrate``), else the embedded queue in ``db`` (already open) or the SQLite file
    ``database_path``. ``kwargs``: lease_seconds, max_attempts, ... (see TableQueue)."""
    if queue_url:
        from .postgres import PostgresQueue  # needs the postgres extra

        return await PostgresQueue.connect(queue_url, **kwargs)
    if db is not None:
        queue = SqliteQueue(db, **kwargs)
        await queue.adopt_legacy_corpora()
        return queue
    if database_path is None:
        raise ValueError("the embedded queue needs a database")
    return await SqliteQueue.open(database_path, **kwargs)

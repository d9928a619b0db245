"""Choosing the engine: PostgreSQL (procrastinate) when a queue URL is set, else SQLite."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

from .config import QUEUE_URL_ENV
from .db import Database
from .errors import JobQueueError
from .queue import JobQueue
from .sqlite import SqliteQueue

POSTGRES_PACKAGES = {"procrastinate", "psycopg", "psycopg_pool"}


def postgres_engine() -> ModuleType:
    """:mod:`jobs.postgres`, or a :class:`JobQueueError` saying to install the postgres extra."""
    try:
        from . import postgres
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in POSTGRES_PACKAGES:
            raise
        raise JobQueueError(
            f"{QUEUE_URL_ENV} is set, but the postgres extra is not installed here: "
            "pip install -e '.[postgres]'"
        ) from None
    return postgres


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
        return await postgres_engine().PostgresQueue.connect(queue_url, **kwargs)
    if db is not None:
        queue = SqliteQueue(db, **kwargs)
        await queue.adopt_legacy_corpora()
        return queue
    if database_path is None:
        raise ValueError("the embedded queue needs a database")
    return await SqliteQueue.open(database_path, **kwargs)

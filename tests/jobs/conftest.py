"""Fixtures for the job queue and worker tests: real SQLite files in tmp_path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.db import bot_database
from jobs.db import Database
from jobs.sqlite import SqliteQueue
from jobs.tables import TableQueue


class FakeClock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with bot_database(tmp_path / "bot.sqlite3") as database:
        yield database


@pytest.fixture
def queue(db: Database, clock: FakeClock) -> SqliteQueue:
    return SqliteQueue(db, lease_seconds=30, max_attempts=3, backoff_seconds=10, clock=clock)


@pytest.fixture(params=["sqlite", "postgres"])
async def any_queue(request, db: Database, clock: FakeClock) -> AsyncIterator[TableQueue]:
    """The queue on each engine: the embedded SQLite one, and procrastinate on PostgreSQL."""
    kwargs = dict(lease_seconds=30, max_attempts=3, backoff_seconds=10, clock=clock)
    if request.param == "sqlite":
        yield SqliteQueue(db, **kwargs)
        return
    from jobs.postgres import PostgresQueue

    queue = await PostgresQueue.connect(request.getfixturevalue("pg_url"), **kwargs)
    try:
        yield queue
    finally:
        await queue.close()


@pytest.fixture
def take():
    """Start the next queued job as a worker would (returns its lease)."""

    async def take(queue):
        if isinstance(queue, SqliteQueue):
            lease = await queue.claim("w")
        else:  # procrastinate would hand the oldest job to a worker, which starts it
            (job,) = [
                j for j in reversed(await queue.list_for_guild(1, 100)) if j.status == "queued"
            ][:1]
            lease = await queue.start(job.id, "w")
        assert lease is not None
        return lease

    return take


@pytest.fixture(params=["sqlite", "postgres"])
def queue_url(request) -> str | None:
    """None: the embedded SQLite queue; else a fresh PostgreSQL database's URL."""
    return None if request.param == "sqlite" else request.getfixturevalue("pg_url")

"""Fixtures for the job queue and worker tests: real SQLite files in tmp_path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.db import bot_database
from jobs.db import Database
from jobs.sqlite import SqliteQueue


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


@pytest.fixture
def take():
    """Start the next queued job as a worker would (returns its lease)."""

    async def take(queue):
        lease = await queue.claim("w")
        assert lease is not None
        return lease

    return take

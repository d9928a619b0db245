"""Fixtures for the job queue and worker tests: real SQLite files in tmp_path."""

from __future__ import annotations

import random
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

# Import this checkout's packages (worker/ may be newer than the editable install).
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.db import Database  # noqa: E402
from bot.jobqueue import JobQueue  # noqa: E402


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
    async with Database(tmp_path / "bot.sqlite3") as database:
        yield database


@pytest.fixture
def queue(db: Database, clock: FakeClock) -> JobQueue:
    return JobQueue(db, lease_seconds=30, max_attempts=3, backoff_seconds=10, clock=clock)


def make_corpus(chars: int = 4000, seed: int = 0) -> str:
    """Text with a learnable pattern: sentences from a tiny grammar."""
    rng = random.Random(seed)
    subjects = ["the cat", "a dog", "my friend", "the bird"]
    verbs = ["sees", "likes", "follows", "finds"]
    objects = ["the mat.", "a ball.", "the tree.", "some food."]
    words: list[str] = []
    size = 0
    while size < chars:
        sentence = f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)}"
        words.append(sentence)
        size += len(sentence) + 1
    return "\n".join(words)[:chars]

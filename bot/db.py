"""The bot's SQLite database: the model registry's migrations (``bot/migrations``, versioned
in ``PRAGMA user_version``) on the shared :class:`jobs.db.Database` helper.

With the embedded job queue (no ``LSTM_BOT_QUEUE_URL``) the same file also holds the job
tables, whose migrations belong to :mod:`jobs` and are applied after the registry's.
"""

from __future__ import annotations

from pathlib import Path

from jobs.db import Database, Migrations
from jobs.sqlite import SQLITE_MIGRATIONS

REGISTRY_MIGRATIONS = Migrations("bot.migrations")


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) of the registry's migrations, in order."""
    return REGISTRY_MIGRATIONS.files()


def bot_database(path: str | Path, *, embedded_queue: bool = True) -> Database:
    """The bot's database: the registry, plus the job tables with the embedded queue."""
    sets = [REGISTRY_MIGRATIONS, SQLITE_MIGRATIONS] if embedded_queue else [REGISTRY_MIGRATIONS]
    return Database(path, sets)


__all__ = ["Database", "REGISTRY_MIGRATIONS", "bot_database", "migrations"]

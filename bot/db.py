"""The bot's SQLite database: the model registry's migrations (``bot/migrations``, versioned
in ``PRAGMA user_version``) on the shared :class:`jobs.db.Database` helper.

With the embedded job queue (no ``LSTM_BOT_QUEUE_URL``) the same file also holds the job
tables, whose migrations belong to :mod:`jobs` and are applied after the registry's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jobs.db import Database, Migrations
from jobs.engine import postgres_engine
from jobs.masking import mask_conninfo
from jobs.sqlite import SQLITE_MIGRATIONS, SqliteQueue

# Foreign keys off while they run (checked after): 0005 rebuilds the models table, which an
# older database's job table refers to (ON DELETE SET NULL would clear its model ids).
REGISTRY_MIGRATIONS = Migrations("bot.migrations", foreign_keys_off=True)


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) of the registry's migrations, in order."""
    return REGISTRY_MIGRATIONS.files()


def bot_database(path: str | Path, *, embedded_queue: bool = True) -> Database:
    """The bot's database: the registry, plus the job tables with the embedded queue."""
    sets = [REGISTRY_MIGRATIONS, SQLITE_MIGRATIONS] if embedded_queue else [REGISTRY_MIGRATIONS]
    return Database(path, sets)


async def migrate_all(settings: Any, *, post: bool = False) -> list[str]:
    """``lstm-bot db migrate``: create or upgrade every schema the bot uses; one line each.
    ``post`` (``--post``): procrastinate's post-migrations too (:mod:`jobs.pg_schema`)."""
    lines = []
    embedded = not settings.queue_conninfo
    async with bot_database(settings.database_path, embedded_queue=embedded) as db:
        lines.append(f"registry: version {await db.version()} in {db.path}")
        if embedded:
            await SqliteQueue(db).adopt_legacy_corpora()
            version = await db.version(SQLITE_MIGRATIONS)
            lines.append(f"job queue (embedded): version {version} in {db.path}")
    if not embedded:
        done = await postgres_engine().migrate(settings.queue_conninfo, post=post)
        lines.append(f"job queue at {mask_conninfo(settings.queue_conninfo)}: {done}")
    return lines


__all__ = ["Database", "REGISTRY_MIGRATIONS", "bot_database", "migrate_all", "migrations"]

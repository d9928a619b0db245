"""The bot's database: where its state lives (the model registry, server settings,
unfinished replies, shard claims).

By default the SQLite file: the registry's migrations (``bot/migrations``, versioned in
``PRAGMA user_version``) on the shared :class:`jobs.db.Database` helper; with the embedded job
queue (no ``LSTM_BOT_QUEUE_URL``) the same file also holds the job tables, whose migrations
belong to :mod:`jobs` and are applied after the registry's. With ``LSTM_BOT_DATABASE_URL``,
PostgreSQL (:class:`bot.pg_state.PgDatabase`, schema in :mod:`bot.pg_migrate`), which bot
processes on several machines share.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from jobs.db import Database, Migrations
from jobs.engine import POSTGRES_PACKAGES, postgres_engine
from jobs.errors import JobQueueError
from jobs.masking import mask_conninfo
from jobs.sqlite import SQLITE_MIGRATIONS, SqliteQueue

if TYPE_CHECKING:
    from .pg_state import PgDatabase

# Foreign keys off while they run (checked after): 0005 rebuilds the models table, which an
# older database's job table refers to (ON DELETE SET NULL would clear its model ids).
REGISTRY_MIGRATIONS = Migrations("bot.migrations", foreign_keys_off=True)


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) of the registry's migrations, in order."""
    return REGISTRY_MIGRATIONS.files()


def bot_database(
    path: str | Path, *, embedded_queue: bool = True, url: str | None = None
) -> Database | PgDatabase:
    """The bot's database: PostgreSQL at ``url`` when given; else the SQLite file at
    ``path`` (the registry, plus the job tables with the embedded queue)."""
    if url:
        return _postgres("pg_state").PgDatabase(url)
    sets = [REGISTRY_MIGRATIONS, SQLITE_MIGRATIONS] if embedded_queue else [REGISTRY_MIGRATIONS]
    return Database(path, sets)


async def migrate_all(settings: Any, *, post: bool = False) -> list[str]:
    """``lstm-bot db migrate``: create or upgrade every schema the bot uses; one line each.
    ``post`` (``--post``): procrastinate's post-migrations too (:mod:`jobs.pg_schema`)."""
    lines = []
    embedded = not settings.queue_conninfo
    if embedded or not settings.state_conninfo:
        async with bot_database(settings.database_path, embedded_queue=embedded) as db:
            if not settings.state_conninfo:
                lines.append(f"registry: version {await db.version()} in {db.path}")
            if embedded:
                await SqliteQueue(db).adopt_legacy_corpora()
                version = await db.version(SQLITE_MIGRATIONS)
                lines.append(f"job queue (embedded): version {version} in {db.path}")
    if not embedded:
        done = await postgres_engine().migrate(settings.queue_conninfo, post=post)
        lines.append(f"job queue at {mask_conninfo(settings.queue_conninfo)}: {done}")
    if settings.state_conninfo:
        done = await _postgres("pg_migrate").migrate_state(settings.state_conninfo)
        lines.append(f"bot state at {mask_conninfo(settings.state_conninfo)}: {done}")
    return lines


async def move_from_sqlite(settings: Any, path: Path) -> list[str]:
    """``db migrate --from-sqlite``: the single bot's state in ``path`` into PostgreSQL."""
    url = settings.state_conninfo
    files = _postgres("model_files").model_files_for(settings, url)
    await files.open()
    try:
        return await _postgres("state_move").copy_from_sqlite(path, url, files)
    finally:
        await files.close()


def _postgres(module: str) -> ModuleType:
    """``bot.<module>`` (it needs psycopg), or one line saying to install the postgres extra."""
    try:
        return importlib.import_module(f"bot.{module}")
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in POSTGRES_PACKAGES:
            raise
        raise JobQueueError(
            "LSTM_BOT_DATABASE_URL is set, but the postgres extra is not installed here: "
            "pip install -e '.[postgres]'"
        ) from None


__all__ = [
    "Database",
    "REGISTRY_MIGRATIONS",
    "bot_database",
    "migrate_all",
    "migrations",
    "move_from_sqlite",
]

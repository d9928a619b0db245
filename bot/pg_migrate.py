"""The bot's state schema on PostgreSQL (``LSTM_BOT_DATABASE_URL``): its migrations, their
upgrade (``lstm-bot db migrate``) and the check every bot process makes when it starts.

The bot's tables live in their own PostgreSQL schema, :data:`SCHEMA` (``lstm_bot``), so they
never meet the queue's tables when state and queue share one database (one URL for both is
the usual set-up). Every file of ``bot/migrations/postgres`` runs, in order, with
``search_path`` set to that schema (unqualified names in the files land there). What is
applied is the row ``bot`` of the queue's own version table, ``schema_versions`` in the
database's default schema (:mod:`jobs.pg_schema`; created here when the queue lives elsewhere).
A bot refuses a schema older or newer than it knows, saying what to run.
"""

from __future__ import annotations

import psycopg

from jobs.db import Migrations
from jobs.masking import mask_conninfo, mask_text, secrets_of
from jobs.pg_schema import (
    MIGRATE_LOCK,
    VERSIONS_TABLE,
    SchemaError,
    connection_problem,
    server_reason,
    set_version,
)

SCHEMA = "lstm_bot"
COMPONENT = "bot"
STATE_MIGRATIONS = Migrations("bot.migrations.postgres", component=COMPONENT)
WHAT = "the bot's state database"


class StateSchemaError(SchemaError):
    """The state database lacks the schema this code needs; the message says what to run."""


async def connect(url: str, **kwargs: object) -> psycopg.AsyncConnection:
    """One connection; a failure is a :class:`SchemaError`'s kin: one line, password masked."""
    try:
        return await psycopg.AsyncConnection.connect(url, connect_timeout=15, **kwargs)
    except psycopg.Error as exc:
        raise StateSchemaError(connection_problem(url, exc, WHAT)) from None


async def state_version(conn: psycopg.AsyncConnection) -> int | None:
    """The applied version of the bot's tables; ``None`` when nothing was ever applied."""
    cursor = await conn.execute("SELECT to_regclass('schema_versions') IS NOT NULL")
    if not (await cursor.fetchone())[0]:
        return None
    cursor = await conn.execute(
        "SELECT version FROM schema_versions WHERE component = %s", (COMPONENT,)
    )
    row = await cursor.fetchone()
    return int(row[0]) if row else None


async def check_state(url: str) -> None:
    """Raise :class:`StateSchemaError` unless the state schema is the one this code knows."""
    async with await connect(url, autocommit=True) as conn:
        version = await state_version(conn)
    where = mask_conninfo(url)
    latest = STATE_MIGRATIONS.latest
    if version is None:
        raise StateSchemaError(f"{WHAT} at {where} has no schema yet: run `lstm-bot db migrate`")
    if version > latest:
        raise StateSchemaError(
            f"{WHAT} at {where} is newer than this lstm-bot (its tables are at version "
            f"{version}, this lstm-bot knows {latest}): upgrade lstm-bot here"
        )
    if version < latest:
        raise StateSchemaError(
            f"{WHAT} at {where}: its schema is older than this lstm-bot: run `lstm-bot db migrate`"
        )


async def migrate_state(url: str) -> str:
    """Create or upgrade the bot's tables; says what it did (one line)."""
    conn = await connect(url, autocommit=True)
    try:
        async with conn:
            await conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATE_LOCK,))
            async with conn.transaction():
                return "; ".join(await _migrate(conn)) or "up to date"
    except psycopg.Error as exc:
        reason = mask_text(server_reason(exc), secrets_of(url))
        raise StateSchemaError(f"can't migrate {WHAT} at {mask_conninfo(url)}: {reason}") from None


async def _migrate(conn: psycopg.AsyncConnection) -> list[str]:
    await conn.execute(VERSIONS_TABLE)
    current = await state_version(conn) or 0
    if current > STATE_MIGRATIONS.latest:
        raise StateSchemaError(
            f"{WHAT} was migrated by a newer lstm-bot (its tables are at version {current}, "
            f"this lstm-bot knows {STATE_MIGRATIONS.latest}): upgrade lstm-bot here"
        )
    await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    cursor = await conn.execute("SELECT current_setting('search_path')")
    home = (await cursor.fetchone())[0]
    done = []
    for version, name, sql in STATE_MIGRATIONS.files():
        if version <= current:
            continue
        await conn.execute(f"SET LOCAL search_path TO {SCHEMA}")
        await conn.execute(sql)
        await conn.execute("SELECT set_config('search_path', %s, true)", (home,))
        await set_version(conn, COMPONENT, version)
        done.append(f"applied {name}")
    return done


__all__ = ["SCHEMA", "STATE_MIGRATIONS", "StateSchemaError", "check_state", "migrate_state"]

"""The PostgreSQL queue's schema: procrastinate's tables and the job tables, their upgrades
(``lstm-bot db migrate``) and the check bot and workers make when they start.

Upgrades follow procrastinate's rule: its *pre*-migrations add what a new version needs and
leave what older workers use; its *post*-migrations remove what only older versions use. So
``db migrate`` (:func:`migrate`) applies procrastinate's migrations in order up to the first
post-migration (and every migration of the job tables), and ``db migrate --post``
(``post=True``) the rest, once every worker and the bot run the new version. Bot and workers
refuse a schema older or newer than they know, saying what to run (:func:`check_schema`).

What is applied is kept in one table, ``schema_versions (component text, version integer)``
(the embedded queue's has the same columns): ``jobs`` (the last of ``jobs/migrations/postgres``
applied), ``procrastinate_pre`` and ``procrastinate_post`` (the last of procrastinate's
migration files applied of each kind, as a number: ``03.04.00_50_…`` is 3_04_00_50). Databases
migrated before kept procrastinate's version as text in a text column (``procrastinate``,
"3.10.0": everything up to it applied); ``db migrate`` converts them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import metadata, resources

import psycopg
from procrastinate.schema import SchemaManager
from psycopg_pool import AsyncConnectionPool

from .db import Migrations
from .errors import JobQueueError
from .masking import mask_conninfo, mask_text, secrets_of

PG_MIGRATIONS = Migrations("jobs.migrations.postgres", component="jobs")
JOBS, PRE, POST, LEGACY = "jobs", "procrastinate_pre", "procrastinate_post", "procrastinate"
MIGRATE_LOCK = 74_021_633  # pg_advisory_lock key: one `db migrate` at a time (bot state too)
VERSIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_versions"
    " (component text PRIMARY KEY, version integer NOT NULL)"
)
_POST_WAITS = (
    "procrastinate's post-migrations wait ({names}): once the bot and every worker run this "
    "lstm-bot, run `lstm-bot db migrate --post`"
)


class SchemaError(JobQueueError):
    """The queue's database lacks the schema this code needs; the message says what to run."""


# ---- connection problems --------------------------------------------------------------------


def connection_problem(url: str, exc: BaseException, what: str = "the job queue's database") -> str:
    """One line for a failed connection to ``what``: the server's reason when it refused (a
    wrong password, a missing database: it holds no secret), else why it could not be reached."""
    where = mask_conninfo(url)
    text = str(exc).strip()
    refused = re.search(r"FATAL:\s+(.+)", text)
    if refused:
        line = f"{what} at {where} refused the connection: {refused[1].strip()}"
    else:
        reason = text.splitlines()[0].rsplit(" failed: ", 1)[-1] if text else type(exc).__name__
        line = f"can't reach {what} at {where}: {reason}"
    return mask_text(line, secrets_of(url))


def server_reason(exc: psycopg.Error) -> str:
    """What the server said, in one line (its primary message: no statement, no secret)."""
    primary = getattr(exc.diag, "message_primary", None)
    return primary or (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# ---- procrastinate's migrations -------------------------------------------------------------


def procrastinate_version() -> str:
    return metadata.version("procrastinate")


def _numbers(text: str, count: int) -> list[int]:
    found = [int(p) for p in re.findall(r"\d+", text)[:count]]
    return found + [0] * (count - len(found))


def _key(major: int, minor: int, patch: int, seq: int) -> int:
    return ((major * 100 + minor) * 100 + patch) * 100 + seq


def installed_key() -> int:
    """The installed procrastinate, as the key of a migration after all of its own."""
    return _key(*_numbers(procrastinate_version(), 3), 99)


@dataclass(frozen=True)
class ProcMigration:
    key: int
    name: str
    post: bool
    sql: str = field(repr=False)


def procrastinate_migrations() -> list[ProcMigration]:
    """procrastinate's migration files up to the installed version, in order."""
    folder = resources.files("procrastinate.sql") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            key = _key(*_numbers(entry.name, 4))
            if key <= installed_key():
                post = "_post_" in entry.name
                found.append(ProcMigration(key, entry.name, post, entry.read_text("utf-8")))
    return sorted(found, key=lambda m: m.key)


@dataclass(frozen=True)
class Versions:
    """What ``schema_versions`` says; ``pre``/``post`` are ``None`` when nothing says."""

    rows: dict[str, str]
    jobs: int
    pre: int | None
    post: int | None
    legacy: bool  # kept by an older lstm-bot (text column, procrastinate as a version)

    @classmethod
    def of(cls, rows: dict[str, str], legacy_column: bool) -> Versions:
        pre = int(rows[PRE]) if PRE in rows else None
        post = int(rows[POST]) if POST in rows else None
        if LEGACY in rows and pre is None:  # everything up to that version was applied
            pre = post = _key(*_numbers(rows[LEGACY], 3), 99)
        return cls(rows, int(rows.get(JOBS, 0)), pre, post, legacy_column or LEGACY in rows)

    def pending(self, *, post: bool) -> list[ProcMigration]:
        """procrastinate's migrations not applied yet, in order; without ``post``, only
        those before the first post-migration."""
        if self.pre is None or self.post is None:
            return []
        pending = []
        for migration in procrastinate_migrations():
            if migration.key <= (self.post if migration.post else self.pre):
                continue
            if migration.post and not post:
                break
            pending.append(migration)
        return pending

    def newer(self) -> str | None:
        """What of the schema is newer than this code, or ``None``."""
        if self.jobs > PG_MIGRATIONS.latest:
            known = PG_MIGRATIONS.latest
            return f"its job tables are at version {self.jobs}, this lstm-bot knows {known}"
        if max(self.pre or 0, self.post or 0) > installed_key():
            return f"its procrastinate schema is newer than procrastinate {procrastinate_version()}"
        return None

    def older(self) -> bool:
        return (
            self.legacy
            or self.pre is None
            or self.post is None
            or self.jobs < PG_MIGRATIONS.latest
            or bool(self.pending(post=False))
        )


async def read_versions(conn: psycopg.AsyncConnection) -> Versions | None:
    """``None`` when the database has no ``schema_versions`` table."""
    cursor = await conn.execute(
        "SELECT data_type FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = 'schema_versions'"
        " AND column_name = 'version'"
    )
    column = await cursor.fetchone()
    if column is None:
        return None
    cursor = await conn.execute("SELECT component, version FROM schema_versions")
    rows = {c: str(v) for c, v in await cursor.fetchall()}
    return Versions.of(rows, legacy_column=column[0] != "integer")


async def set_version(conn: psycopg.AsyncConnection, component: str, version: int) -> None:
    await conn.execute(
        "INSERT INTO schema_versions (component, version) VALUES (%s, %s)"
        " ON CONFLICT (component) DO UPDATE SET version = excluded.version",
        (component, version),
    )


async def _convert_legacy(conn: psycopg.AsyncConnection, versions: Versions) -> None:
    """An older lstm-bot's ``schema_versions`` (text column, procrastinate as a version)
    becomes today's (integer column, two procrastinate rows)."""
    await conn.execute("DELETE FROM schema_versions WHERE component = %s", (LEGACY,))
    await conn.execute(
        "ALTER TABLE schema_versions ALTER COLUMN version TYPE integer USING version::integer,"
        " ALTER COLUMN version SET NOT NULL"
    )
    if versions.pre is not None and versions.post is not None:
        await set_version(conn, PRE, versions.pre)
        await set_version(conn, POST, versions.post)


# ---- db migrate -----------------------------------------------------------------------------


async def migrate(url: str, *, post: bool = False) -> str:
    """Create or upgrade procrastinate's schema (its post-migrations only with ``post``) and
    the job tables; says what it did. Every failure is a :class:`JobQueueError` of one line."""
    try:
        conn = await psycopg.AsyncConnection.connect(url, autocommit=True, connect_timeout=15)
    except psycopg.Error as exc:
        raise JobQueueError(connection_problem(url, exc)) from None
    try:
        async with conn:
            await conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATE_LOCK,))
            async with conn.transaction():
                return "; ".join(await _migrate(conn, post=post)) or "up to date"
    except psycopg.Error as exc:
        reason = mask_text(server_reason(exc), secrets_of(url))
        raise JobQueueError(
            f"can't migrate the job queue's database at {mask_conninfo(url)}: {reason}"
        ) from None


async def _migrate(conn: psycopg.AsyncConnection, *, post: bool) -> list[str]:
    done: list[str] = []
    versions = await read_versions(conn)
    cursor = await conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")
    has_procrastinate = (await cursor.fetchone())[0]
    if has_procrastinate and (versions is None or versions.pre is None or versions.post is None):
        raise SchemaError(
            "the job queue's database has procrastinate's tables but no record of their "
            "version (they were made without `lstm-bot db migrate`): use an empty database"
        )
    if versions is not None and (newer := versions.newer()):
        raise SchemaError(
            f"the job queue's database was migrated by a newer lstm-bot ({newer}): "
            "upgrade lstm-bot here"
        )
    if versions is None:
        await conn.execute(VERSIONS_TABLE)
        versions = Versions.of({}, legacy_column=False)
    elif versions.legacy:
        await _convert_legacy(conn, versions)
    if not has_procrastinate:
        await conn.execute(SchemaManager.get_schema())
        await set_version(conn, PRE, installed_key())
        await set_version(conn, POST, installed_key())
        done.append(f"created procrastinate {procrastinate_version()}'s schema")
    else:
        for migration in versions.pending(post=post):
            await conn.execute(migration.sql)
            await set_version(conn, POST if migration.post else PRE, migration.key)
            done.append(f"applied procrastinate's {migration.name}")
    for version, name, sql in PG_MIGRATIONS.files():
        if version > versions.jobs:
            await conn.execute(sql)
            await set_version(conn, JOBS, version)
            done.append(f"applied {name}")
    final = await read_versions(conn)
    waiting = final.pending(post=True) if final is not None else []
    if waiting:
        done.append(_POST_WAITS.format(names=", ".join(m.name for m in waiting)))
    return done


# ---- the check at start ---------------------------------------------------------------------


async def check_schema(pool: AsyncConnectionPool) -> None:
    """Raise :class:`SchemaError` unless the database's schema is the one this code knows
    (post-migrations still waiting are fine: they remove only what older code uses)."""
    async with pool.connection() as conn:
        versions = await read_versions(conn)
    if versions is None or not versions.rows:
        raise SchemaError("the job queue's database has no schema yet: run `lstm-bot db migrate`")
    newer = versions.newer()
    if newer:
        raise SchemaError(
            f"the job queue's database is newer than this lstm-bot ({newer}): upgrade lstm-bot here"
        )
    if versions.older():
        raise SchemaError(
            "the job queue's database schema is older than this lstm-bot: run `lstm-bot db migrate`"
        )


__all__ = [
    "MIGRATE_LOCK",
    "PG_MIGRATIONS",
    "SchemaError",
    "check_schema",
    "connection_problem",
    "migrate",
    "procrastinate_version",
    "set_version",
]

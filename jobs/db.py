"""A SQLite database: one aiosqlite connection in WAL mode, versioned migrations, transactions.

Several components keep their tables in one file (the bot's registry and, with the embedded
engine, the job tables), each with its own numbered ``NNNN_*.sql`` migrations
(:class:`Migrations`). A component's version is kept in ``PRAGMA user_version`` (the bot's
registry, as it always was) or in a row of ``schema_versions`` (the others). Multi-statement
work goes through :meth:`Database.transaction`, which holds a lock (one transaction at a time
on the shared connection) and uses ``BEGIN IMMEDIATE`` so writers from other processes wait on
the busy timeout instead of failing half-way.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from .errors import JobQueueError

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class Migrations:
    """The migration files of one component: ``package`` holds ``NNNN_name.sql`` files.

    ``component=None`` keeps the version in ``PRAGMA user_version``; a name keeps it in the
    ``schema_versions`` table. ``foreign_keys_off`` runs them with foreign keys off (needed to
    rebuild a table, as SQLite's ALTER TABLE documentation describes) and checks them after.
    """

    package: str
    component: str | None = None
    foreign_keys_off: bool = False

    def files(self) -> list[tuple[int, str, str]]:
        """(version, name, sql) for every migration file, in order."""
        found = []
        for entry in resources.files(self.package).iterdir():
            match = re.match(r"^(\d{4})_\w+\.sql$", entry.name)
            if match:
                found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
        return sorted(found)

    @property
    def latest(self) -> int:
        files = self.files()
        return files[-1][0] if files else 0


def _probe(path: Path) -> None:
    sqlite3.connect(path).close()


class DatabaseUnavailable(JobQueueError):
    """The SQLite file can't be opened or isn't a database; the message names it and why."""


class Database:
    def __init__(self, path: str | Path, migrations: Sequence[Migrations] = ()):
        self.path = Path(path)
        self.migrations = tuple(migrations)
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    async def open(self) -> Database:
        """Connect and migrate. A file that isn't a database (or a path that can't be opened)
        raises :class:`DatabaseUnavailable` and leaves the file as it was; the connection's
        thread is closed either way, so a failed start doesn't hang the process."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # sqlite3 first: aiosqlite's own failed connect leaves its thread to report to
            # a loop that may be gone (a traceback at exit).
            await asyncio.to_thread(_probe, self.path)
            self._conn = await aiosqlite.connect(self.path, isolation_level=None)
            self._conn.row_factory = aiosqlite.Row
            await self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await self._conn.execute("PRAGMA journal_mode = WAL")
        except (sqlite3.Error, OSError) as exc:
            await self.close()
            raise DatabaseUnavailable(f"can't open the database {self.path}: {exc}") from exc
        try:
            await self._conn.execute("PRAGMA foreign_keys = ON")
            await self._conn.execute("PRAGMA synchronous = NORMAL")
            for migrations in self.migrations:
                await self.migrate(migrations)
        except BaseException:
            await self.close()
            raise
        return self

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def __aenter__(self) -> Database:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def version(self, migrations: Migrations | None = None) -> int:
        """The applied version of a component (default: ``PRAGMA user_version``)."""
        async with self._lock:
            return await _read_version(self.conn, migrations)

    async def migrate(self, migrations: Migrations) -> None:
        """Apply the migrations not applied yet; a database migrated by a newer lstm-bot
        (a version past the last file here) is refused: :class:`DatabaseUnavailable`."""
        async with self._lock:
            current = await _read_version(self.conn, migrations)
        if current > migrations.latest:
            what = migrations.component or "registry"
            raise DatabaseUnavailable(
                f"the database {self.path} ({what} at version {current}, this lstm-bot knows "
                f"{migrations.latest}) was made by a newer lstm-bot: upgrade lstm-bot here"
            )
        for version, name, sql in migrations.files():
            # The version is read inside the write transaction: processes opening the same
            # new database at once (the bot, several workers) apply each migration once.
            if migrations.foreign_keys_off:
                await self.conn.execute("PRAGMA foreign_keys = OFF")
            try:
                async with self.transaction() as conn:
                    if version <= await _read_version(conn, migrations):
                        continue
                    for statement in split_sql(sql):
                        await conn.execute(statement)
                    await _write_version(conn, migrations, version)
                    if migrations.foreign_keys_off:
                        async with conn.execute("PRAGMA foreign_key_check") as cursor:
                            if await cursor.fetchone() is not None:
                                raise RuntimeError(f"{name} broke a foreign key")
            finally:
                if migrations.foreign_keys_off:
                    await self.conn.execute("PRAGMA foreign_keys = ON")
            log.info("applied migration %s", name)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error), one at a time."""
        async with self._lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            else:
                await self.conn.execute("COMMIT")

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """One statement in its own transaction; returns the rows changed."""
        async with self._lock:
            cursor = await self.conn.execute(sql, tuple(params))
            return cursor.rowcount

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        async with self._lock:
            async with self.conn.execute(sql, tuple(params)) as cursor:
                return await cursor.fetchone()

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        async with self._lock:
            async with self.conn.execute(sql, tuple(params)) as cursor:
                return list(await cursor.fetchall())


async def _read_version(conn: aiosqlite.Connection, migrations: Migrations | None) -> int:
    if migrations is None or migrations.component is None:
        async with conn.execute("PRAGMA user_version") as cursor:
            return int((await cursor.fetchone())[0])
    async with conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_versions'"
    ) as cursor:
        if await cursor.fetchone() is None:
            return 0
    async with conn.execute(
        "SELECT version FROM schema_versions WHERE component = ?", (migrations.component,)
    ) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def _write_version(conn: aiosqlite.Connection, migrations: Migrations, version: int) -> None:
    if migrations.component is None:
        await conn.execute(f"PRAGMA user_version = {int(version)}")
        return
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_versions"
        " (component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
    )
    await conn.execute(
        "INSERT INTO schema_versions (component, version) VALUES (?, ?)"
        " ON CONFLICT (component) DO UPDATE SET version = excluded.version",
        (migrations.component, version),
    )


def split_sql(sql: str) -> list[str]:
    """Split a migration into statements (our migrations have no ';' or '--' inside literals).

    Comments, whole-line or trailing, are dropped first: they may contain ';'."""
    lines = [line.split("--", 1)[0].rstrip() for line in sql.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]

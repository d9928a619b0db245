"""The bot's state on PostgreSQL: the API of :class:`jobs.db.Database` (``execute``,
``fetchone``, ``fetchall``, ``transaction``) over a small psycopg 3 pool, so the registry,
the server settings, the unfinished replies and the shard claims run unchanged on either
engine.

- SQL is written once, with ``?`` placeholders (:func:`jobs.pg.to_psycopg` turns them into
  psycopg's); rows are :class:`Row`: by column name or position, as ``aiosqlite.Row``.
- Connections use the bot's own schema (:data:`bot.pg_migrate.SCHEMA`); :meth:`open` refuses
  a schema older or newer than this code (:func:`bot.pg_migrate.check_state`).
- :meth:`transaction` yields a connection with aiosqlite's face (``execute`` awaited or used
  as ``async with``, ``executemany``) and holds a transaction-level advisory lock, so that
  transactions run one at a time across every bot process, as ``BEGIN IMMEDIATE`` makes them
  on SQLite: a check and the write that follows it can't interleave with another process's.
- A connection lost (a restart, a failover) is replaced by the pool; a read that met one, or
  a connection that can't be had yet, is tried again with :class:`jobs.backoff.Backoff` for
  up to :data:`RETRY_SECONDS`. A write is never sent twice: it raises.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import psycopg
from psycopg import AsyncConnection, AsyncCursor
from psycopg_pool import AsyncConnectionPool

from jobs.backoff import Backoff
from jobs.errors import QueueUnavailable
from jobs.masking import mask_conninfo
from jobs.pg import make_pool, to_psycopg

from .pg_migrate import SCHEMA, check_state

log = logging.getLogger(__name__)

RETRY_SECONDS = 30.0
TRANSACTION_LOCK = 74_021_635  # advisory lock key (jobs: 74_021_633 and ...634): one state
# transaction at a time
T = TypeVar("T")


class StateUnavailable(QueueUnavailable):
    """The state database can't be reached now; the message says so in one line."""


class Row(tuple):
    """A row by position (``row[0]``) or by column name (``row["id"]``)."""

    names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return super().__getitem__(self.names[key])
        return super().__getitem__(key)

    def keys(self) -> list[str]:
        return list(self.names)


def _row_factory(cursor: AsyncCursor[Any]) -> Callable[[Sequence[Any]], Row]:
    names = {c.name: i for i, c in enumerate(cursor.description or ())}

    def make(values: Sequence[Any]) -> Row:
        row = Row(values)
        row.names = names
        return row

    return make


async def _run(conn: AsyncConnection, sql: str, params: Iterable[Any]) -> AsyncCursor[Row]:
    cursor = conn.cursor(row_factory=_row_factory)
    await cursor.execute(to_psycopg(sql), tuple(params))
    return cursor


class _Result:
    """What ``execute`` gives inside a transaction: awaited, the cursor; ``async with``, the
    cursor closed after (as aiosqlite's)."""

    def __init__(self, conn: AsyncConnection, sql: str, params: Iterable[Any]):
        self._pending = _run(conn, sql, params)
        self._cursor: AsyncCursor[Row] | None = None

    def __await__(self):  # noqa: ANN204 - a generator, as __await__ is
        return self._pending.__await__()

    async def __aenter__(self) -> AsyncCursor[Row]:
        self._cursor = await self._pending
        return self._cursor

    async def __aexit__(self, *exc: object) -> None:
        if self._cursor is not None:
            await self._cursor.close()


class PgConnection:
    """A connection inside :meth:`PgDatabase.transaction`, with aiosqlite's face."""

    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    def execute(self, sql: str, params: Iterable[Any] = ()) -> _Result:
        return _Result(self.conn, sql, params)

    async def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        async with self.conn.cursor() as cursor:
            await cursor.executemany(to_psycopg(sql), [tuple(r) for r in rows])


class PgDatabase:
    """The bot's state database at ``url`` (a postgresql:// URL or libpq keyword string)."""

    def __init__(self, url: str, *, max_size: int = 4):
        self.url = url
        self.max_size = max_size
        self._pool: AsyncConnectionPool | None = None

    @property
    def path(self) -> str:
        """Where it is, for logs: the URL with its password masked."""
        return mask_conninfo(self.url)

    @property
    def is_open(self) -> bool:
        return self._pool is not None

    async def open(self) -> PgDatabase:
        """Check the schema (one line saying what to run when it isn't this code's), then
        open the pool."""
        await check_state(self.url)
        pool = make_pool(self.url, max_size=self.max_size, configure=use_state_schema)
        await pool.open(wait=True, timeout=15)
        self._pool = pool
        return self

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def __aenter__(self) -> PgDatabase:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgConnection]:
        """One transaction, one at a time across the bot's processes; rolled back on error."""
        async with self._connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (TRANSACTION_LOCK,))
            yield PgConnection(conn)

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """One statement in its own transaction; returns the rows changed."""
        async with self._connection() as conn:
            cursor = await _run(conn, sql, params)
            return cursor.rowcount

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        return await self._read(lambda conn: _fetch(conn, sql, params, one=True))

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        return await self._read(lambda conn: _fetch(conn, sql, params, one=False))

    async def _read(self, query: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """A read, tried again on a lost connection (reads may be)."""
        backoff = Backoff(0.1, 2.0)
        deadline = asyncio.get_running_loop().time() + RETRY_SECONDS
        while True:
            try:
                async with self._connection() as conn:
                    return await query(conn)
            except (psycopg.OperationalError, StateUnavailable) as exc:
                if asyncio.get_running_loop().time() > deadline:
                    raise _unavailable(self.url, exc) from exc
                log.warning("the state database: %s; trying again", type(exc).__name__)
            await asyncio.sleep(backoff.next())

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection]:
        if self._pool is None:
            raise RuntimeError("database is not open")
        try:
            async with self._pool.connection(timeout=RETRY_SECONDS) as conn:
                yield conn
        except psycopg.OperationalError as exc:  # PoolTimeout too
            raise _unavailable(self.url, exc) from exc


async def _fetch(conn: AsyncConnection, sql: str, params: Iterable[Any], *, one: bool) -> Any:
    cursor = await _run(conn, sql, params)
    async with cursor:
        return await cursor.fetchone() if one else await cursor.fetchall()


async def use_state_schema(conn: AsyncConnection) -> None:
    """A new connection's set-up: the bot's tables are found in their own schema."""
    await conn.execute(f"SET search_path TO {SCHEMA}")
    await conn.commit()


def _unavailable(url: str, exc: BaseException) -> StateUnavailable:
    reason = getattr(exc, "sqlstate", None) or type(exc).__name__
    return StateUnavailable(
        f"the bot's state database at {mask_conninfo(url)} can't be reached ({reason})"
    )


__all__ = ["PgDatabase", "Row", "StateUnavailable", "use_state_schema"]

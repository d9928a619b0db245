"""PostgreSQL as a :class:`jobs.store.Store`: a psycopg 3 connection pool (shared with
procrastinate), the job tables' ``?`` placeholders turned into psycopg's ``%s``."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from .blobs import PART_BYTES
from .errors import QueueUnavailable
from .store import Tx

_PLACEHOLDER = re.compile(r"\?")


def to_psycopg(sql: str) -> str:
    """``?`` placeholders as ``%s`` (our SQL has no ``?`` or ``%`` inside literals)."""
    return _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))


def make_pool(
    url: str,
    *,
    max_size: int = 4,
    configure: Callable[[AsyncConnection], Awaitable[None]] | None = None,
) -> AsyncConnectionPool:
    """A pool of connections; each use of one commits when it is given back (psycopg_pool),
    and our multi-statement work is one explicit ``transaction()``. ``configure`` sets up
    each new connection (the bot's state: its schema)."""
    return AsyncConnectionPool(
        conninfo=url,
        min_size=1,
        max_size=max_size,
        open=False,
        configure=configure,
        check=AsyncConnectionPool.check_connection,
    )


class PgTx:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def one(self, sql: str, params: Sequence[Any] = ()) -> Any | None:
        async with self.conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(to_psycopg(sql), tuple(params))
            return await cursor.fetchone()

    async def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        async with self.conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(to_psycopg(sql), tuple(params))
            return await cursor.fetchall()

    async def exec(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self.conn.cursor() as cursor:
            await cursor.execute(to_psycopg(sql), tuple(params))
            return cursor.rowcount


class PgStore:
    """The pool as a :class:`jobs.store.Store`. A lost connection or a server that can't be
    reached raises :class:`QueueUnavailable` (passing trouble: callers may try again)."""

    for_update = " FOR UPDATE"
    chunk_bytes = PART_BYTES

    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgTx]:
        async with self._connection() as conn:
            async with conn.transaction():
                yield PgTx(conn)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with self.pool.connection() as conn:
                yield conn
        except psycopg.OperationalError as exc:  # PoolTimeout too
            raise QueueUnavailable(
                f"the job queue's database can't be reached ({exc.sqlstate or type(exc).__name__})"
            ) from exc

    async def lock(self, tx: Tx, key: int) -> None:
        await tx.exec("SELECT pg_advisory_xact_lock(?)", (key,))

    async def one(self, sql: str, params: Sequence[Any] = ()) -> Any | None:
        async with self._connection() as conn:
            return await PgTx(conn).one(sql, params)

    async def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        async with self._connection() as conn:
            return await PgTx(conn).all(sql, params)

    async def exec(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._connection() as conn:
            return await PgTx(conn).exec(sql, params)

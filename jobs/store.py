"""The small database surface the job tables need, for SQLite and for PostgreSQL.

The job tables' SQL (:mod:`jobs.tables`) is written once with ``?`` placeholders and rows read
by column name; :class:`Store` runs it on either database. A :class:`Tx` is one transaction:
on SQLite ``BEGIN IMMEDIATE`` (one writer at a time), on PostgreSQL READ COMMITTED with the
rows a write depends on locked by ``FOR UPDATE`` (:attr:`Store.for_update`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from .blobs import PART_BYTES
from .db import Database


class Tx(Protocol):
    async def one(self, sql: str, params: Sequence[Any] = ()) -> Any | None: ...

    async def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...

    async def exec(self, sql: str, params: Sequence[Any] = ()) -> int: ...


class Store(Protocol):
    for_update: str  # appended to a SELECT whose rows a transaction is about to change
    chunk_bytes: int  # blobs are written and read in parts of this size (jobs.blobs.PART_BYTES)

    def transaction(self) -> AbstractAsyncContextManager[Tx]: ...

    async def lock(self, tx: Tx, key: int) -> None:
        """Serialise transactions on ``key`` (e.g. a guild's quota checks)."""

    async def one(self, sql: str, params: Sequence[Any] = ()) -> Any | None: ...

    async def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...

    async def exec(self, sql: str, params: Sequence[Any] = ()) -> int: ...


class SqliteTx:
    def __init__(self, conn: Any):
        self.conn = conn

    async def one(self, sql: str, params: Sequence[Any] = ()) -> Any | None:
        rows = await self.all(sql, params)
        return rows[0] if rows else None

    async def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        async with self.conn.execute(sql, tuple(params)) as cursor:
            return list(await cursor.fetchall())

    async def exec(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self.conn.execute(sql, tuple(params)) as cursor:
            return cursor.rowcount


class SqliteStore:
    """A :class:`jobs.db.Database` as a :class:`Store` (``BEGIN IMMEDIATE`` serialises)."""

    for_update = ""
    chunk_bytes = PART_BYTES

    def __init__(self, db: Database):
        self.db = db

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self.db.transaction() as conn:
            yield SqliteTx(conn)

    async def lock(self, tx: Tx, key: int) -> None:
        return None

    async def one(self, sql: str, params: Sequence[Any] = ()) -> Any | None:
        return await self.db.fetchone(sql, params)

    async def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return await self.db.fetchall(sql, params)

    async def exec(self, sql: str, params: Sequence[Any] = ()) -> int:
        return await self.db.execute(sql, params)

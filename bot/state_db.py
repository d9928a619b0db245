"""What the bot's state code (registry, server settings, unfinished replies, shard claims,
change watch) needs of its database: the face both engines show, :class:`jobs.db.Database`
(the SQLite file) and :class:`bot.pg_state.PgDatabase` (PostgreSQL). SQL is written once,
with ``?`` placeholders, in the dialect both accept; rows are read by column name or position.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol


class StateDatabase(Protocol):
    @property
    def is_open(self) -> bool: ...

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """One statement in its own transaction; the rows changed."""
        ...

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> Any | None: ...

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Any]: ...

    def transaction(self) -> AbstractAsyncContextManager[Any]:
        """A transaction, one at a time across the bot's processes; its connection's
        ``execute`` is awaited (a cursor) or used with ``async with``, as aiosqlite's."""
        ...

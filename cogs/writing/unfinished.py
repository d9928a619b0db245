"""Replies being written, by message id, in the bot's database: what the next start needs
to finish the ones a crash (``kill -9``, a lost machine) left mid-write.

A reply's row is written when its message first shows (the first streamed edit) and removed
once its final text shows. Only ids (message, channel, server), the buttons' state (model id
and name, options: what the custom id holds) and the writer's language are stored, never
text (README, "Privacy").
:func:`.repair.repair_unfinished` finishes the rows left by an earlier process, when a
process starts (each process those of the servers its shards hold: several processes share
the database).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.state_db import StateDatabase

from .reply_text import ReplyState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Unfinished:
    message_id: int
    channel_id: int
    guild_id: int | None  # None: a DM
    state: ReplyState
    locale: str


class UnfinishedReplies:
    def __init__(self, db: StateDatabase):
        self.db = db

    async def begin(self, reply: Unfinished) -> None:
        await self.db.execute(
            "INSERT INTO unfinished_replies (message_id, channel_id, guild_id, state, locale,"
            " started_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO UPDATE SET"
            " channel_id = excluded.channel_id, guild_id = excluded.guild_id,"
            " state = excluded.state, locale = excluded.locale, started_at = excluded.started_at",
            (
                reply.message_id,
                reply.channel_id,
                reply.guild_id,
                reply.state.encode(),
                reply.locale,
                datetime.now(UTC).isoformat(),
            ),
        )

    async def forget(self, message_id: int) -> None:
        await self.db.execute("DELETE FROM unfinished_replies WHERE message_id = ?", (message_id,))

    async def all(self) -> list[Unfinished]:
        rows = await self.db.fetchall(
            "SELECT message_id, channel_id, guild_id, state, locale FROM unfinished_replies"
            " ORDER BY started_at"
        )
        found = []
        for row in rows:
            try:
                state = ReplyState.decode(row["state"])
            except ValueError:
                log.warning("unfinished reply %d: bad state %r", row["message_id"], row["state"])
                await self.forget(row["message_id"])
                continue
            found.append(
                Unfinished(
                    row["message_id"], row["channel_id"], row["guild_id"], state, row["locale"]
                )
            )
        return found

"""At start-up: finish the replies that a process which died (``kill -9``, a crash, a lost
machine) left mid-write, from the message ids it stored (:mod:`.unfinished`).

Each such message is read back from Discord. If it still shows "writing…", the text it shows
becomes its final text, with "stopped: press Continue" and the Continue and Regenerate
buttons (in the language it was being written in). A message that is gone is forgotten; one
Discord can't give now stays for the next start.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable

import aiohttp
import discord

from .reply_text import text_so_far
from .unfinished import Unfinished
from .writer import ReplyWriter, final_footer, model_footer, show_final

log = logging.getLogger(__name__)


class MessageTarget:
    """A message of the bot's, edited through the channel (its interaction may be long gone)."""

    def __init__(self, message: discord.Message):
        self.message = message

    async def show(
        self,
        content: str,
        *,
        files: list[discord.File] | None = None,
        view: discord.ui.View | None = None,
    ) -> None:
        extra = {"attachments": files} if files else {}
        await self.message.edit(content=content, view=view, **extra)


class ReplyRepair:
    """Started once this process's shards are known (``LSTMBot.after_claim``): finishes, in
    the background, the replies of its servers that an earlier process left mid-write (read
    then: this process has written none yet). Cancelled when the extension unloads; what is
    left is finished by the next start."""

    def __init__(
        self,
        client: discord.Client,
        writer: ReplyWriter,
        holds_guild: Callable[[int | None], bool],
    ):
        self.client, self.writer, self.holds_guild = client, writer, holds_guild
        self._task: asyncio.Task[int] | None = None

    async def start(self) -> None:
        rows = [r for r in await self.writer.unfinished.all() if self.holds_guild(r.guild_id)]
        if rows and self._task is None:
            self._task = asyncio.create_task(repair_unfinished(self.client, self.writer, rows))

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()


async def repair_unfinished(
    client: discord.Client, writer: ReplyWriter, rows: list[Unfinished]
) -> int:
    """Finish the replies of ``rows`` (read before this process wrote any); how many."""
    repaired = 0
    for row in rows:
        try:
            repaired += await _repair(client, row)
        except (discord.NotFound, discord.Forbidden):
            log.info("unfinished reply %d is gone", row.message_id)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("could not finish reply %d now (%r); next start", row.message_id, exc)
            continue
        await writer.unfinished.forget(row.message_id)
    if rows:
        log.info("finished %d of %d replies left mid-write", repaired, len(rows))
    return repaired


async def _repair(client: discord.Client, row: Unfinished) -> bool:
    channel = client.get_partial_messageable(row.channel_id)
    message = await channel.fetch_message(row.message_id)
    found = text_so_far(message.content or "", row.state)
    if found is None:  # finished after all (its row outlived it), or no longer a reply
        return False
    seed, text = found
    state = dataclasses.replace(row.state, seed_length=len(seed))
    footer = model_footer(state.model_name, state.temperature, row.locale)
    footer = final_footer(footer, text, (), True, row.locale)
    await show_final(MessageTarget(message), seed, text, footer, state, row.locale)
    return True

"""The writing feature (one extension): ``/generate``, the "Continue this text" message
command, the Continue and Regenerate buttons under each reply, and finishing the replies an
earlier process left mid-write.

``generate`` holds the cog, ``writer`` the :class:`ReplyWriter` that streams a model's text
into a reply, ``reply_buttons`` the buttons (their state in their custom ids),
``reply_text`` reading a reply back, ``unfinished`` the replies being written (on disk) and
``repair`` finishing them after a restart.
"""

from __future__ import annotations

from bot.client import LSTMBot

from .generate import Generate
from .unfinished import UnfinishedReplies
from .writer import ReplyWriter


def writer_for(bot: LSTMBot) -> ReplyWriter:
    """The reply writer of ``bot``, handed only what it uses."""
    return ReplyWriter(
        bot,
        registry=bot.registry,
        generation=bot.generation,
        cooldown=bot.cooldown,
        flights=bot.flights,
        unfinished=UnfinishedReplies(bot.db),
        pacing=bot.pacing,
        max_length=lambda: bot.settings.max_length,
    )


async def setup(bot: LSTMBot) -> None:
    await bot.add_cog(Generate(bot, writer_for(bot)))

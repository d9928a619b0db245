"""/generate and the "Continue this text" message command: a model continues a text,
streamed into the reply, with Continue and Regenerate buttons under it (``writer.py``)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import model_choices, resolve_model
from bot.client import LSTMBot
from bot.cooldown import writing_cooldown
from bot.errors import UserFacingError
from bot.tree import defer

from .repair import ReplyRepair
from .reply_buttons import BUTTONS
from .reply_text import reply_options, word_start
from .writer import MAX_SEED, ReplyWriter

CONTINUE_THIS_TEXT = "Continue this text"
MESSAGE_TEMPERATURE = 0.7
DEFAULT_LENGTH = 400


class Generate(commands.Cog):
    def __init__(self, bot: LSTMBot, writer: ReplyWriter):
        self.bot, self.writer = bot, writer
        self.repair = ReplyRepair(bot, writer, bot.holds_guild)
        self.menu = app_commands.ContextMenu(
            name=CONTINUE_THIS_TEXT, callback=self.continue_this_text
        )

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.menu)
        self.bot.add_dynamic_items(*BUTTONS)
        self.bot.after_claim.append(self.repair.start)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)
        self.bot.remove_dynamic_items(*BUTTONS)
        self.bot.after_claim.remove(self.repair.start)
        self.repair.cancel()

    @app_commands.command(name="generate", description="Continue your text in a learned style")
    @app_commands.describe(
        seed="Text to start from (the model continues it)",
        temperature="Randomness: 0 = most likely text, 0.5 = balanced, 1+ = wild",
        model="Model to write with (default: this server's default model)",
        length="How many characters to add (default 400)",
        top_p="Only sample from the most likely characters covering this probability",
        rng_seed="Random seed: the same seed and options give the same text",
    )
    @app_commands.autocomplete(model=model_choices)
    @writing_cooldown()
    async def generate(
        self,
        interaction: discord.Interaction,
        seed: app_commands.Range[str, 1, MAX_SEED],
        temperature: app_commands.Range[float, 0.0, 2.0],
        model: str | None = None,
        length: app_commands.Range[int, 1, 5000] = DEFAULT_LENGTH,
        top_p: app_commands.Range[float, 0.01, 1.0] = 1.0,
        rng_seed: app_commands.Range[int, 0, 2**31 - 1] | None = None,
    ) -> None:
        if not seed.strip():
            raise UserFacingError("generate.seed_empty")
        limit = self.bot.settings.max_length
        if length > limit:
            raise UserFacingError("generate.too_long", limit=limit)
        try:  # Discord enforces the declared ranges, but lets -0.0 through, and more digits
            options = reply_options(temperature, length, top_p, rng_seed)
        except ValueError:
            raise UserFacingError("generate.out_of_range") from None
        await defer(interaction)  # before any database or model work
        record = await resolve_model(interaction, model, usable=True)
        await self.writer.new_reply(interaction, record, seed, options)

    @writing_cooldown()
    async def continue_this_text(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        """The message's text (its last 500 characters) is the seed; the server's default
        model writes at temperature 0.7. A generated reply of this bot gives its own text (no
        markdown, no footer). Nothing of the message is kept."""
        if not (message.content or "").strip():
            if message.attachments:
                raise UserFacingError("continue.attachments_only")
            if message.embeds:
                raise UserFacingError("continue.embeds_only")
            raise UserFacingError("continue.empty")
        options = reply_options(
            MESSAGE_TEMPERATURE, min(DEFAULT_LENGTH, self.bot.settings.max_length)
        )
        await defer(interaction)  # before any database, model or download work
        text = await self.writer.text_of(message)
        seed = text if len(text) <= MAX_SEED else word_start(text[-MAX_SEED:])
        record = await resolve_model(interaction, None, usable=True)
        await self.writer.new_reply(interaction, record, seed, options)

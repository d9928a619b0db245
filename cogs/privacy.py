"""/privacy: what the bot stores, for how long, and how to delete it."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import LSTMBot

TEXT = """**What lstm-bot stores**
• **Uploaded texts** (`/train`): stored with the training job in the bot's job queue, sent \
to the training worker, and deleted as soon as the job ends{keep}.
• **Models**: the trained weights and a model card (name, who made it, base model, corpus \
size, training figures). Only this server can see or use its models.
• **Jobs**: for each training job, who started it, in which channel, its status and \
progress log (losses, samples). Kept so `/job list` can show them.
• **Not stored**: `/generate` seeds and results, and channel messages. The bot never reads \
message history.

**How to delete it**
• `/job cancel` stops a job and deletes its uploaded text.
• `/model delete` removes a model's weights, its card and its record (its owner or anyone \
with Manage Server).
• To have everything of this server removed, ask the bot's operator."""


class Privacy(commands.Cog):
    def __init__(self, bot: LSTMBot):
        self.bot = bot

    @app_commands.command(name="privacy", description="What the bot stores and how to delete it")
    async def privacy(self, interaction: discord.Interaction) -> None:
        keep = (
            " (this bot's operator keeps them: LSTM_BOT_KEEP_CORPORA)"
            if (self.bot.settings.keep_corpora)
            else ""
        )
        await interaction.response.send_message(TEXT.format(keep=keep), ephemeral=True)


async def setup(bot: LSTMBot) -> None:
    await bot.add_cog(Privacy(bot))

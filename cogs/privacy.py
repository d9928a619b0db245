"""/privacy: what the bot stores, for how long, and how to delete it."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import LSTMBot
from bot.i18n import t


class Privacy(commands.Cog):
    def __init__(self, bot: LSTMBot):
        self.bot = bot

    @app_commands.command(name="privacy", description="What the bot stores and how to delete it")
    async def privacy(self, interaction: discord.Interaction) -> None:
        locale = interaction.locale
        keep = t(locale, "privacy.kept") if self.bot.settings.keep_corpora else ""
        await interaction.response.send_message(
            t(locale, "privacy.text", keep=keep), ephemeral=True
        )


async def setup(bot: LSTMBot) -> None:
    await bot.add_cog(Privacy(bot))

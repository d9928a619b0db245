"""The base of the features' private views (a pager, a confirmation dialog): only the user
who opened one may press its buttons, and none works once the bot is stopping."""

from __future__ import annotations

import discord

from .i18n import Message
from .tree import refused_while_stopping


class OwnedView(discord.ui.View):
    """A view for ``user_id`` alone; anyone else is told ``not_yours``."""

    def __init__(self, user_id: int, not_yours: Message, *, timeout: float):
        super().__init__(timeout=timeout)
        self.user_id, self.not_yours = user_id, not_yours

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if await refused_while_stopping(interaction):
            return False
        if interaction.user.id != self.user_id:
            await interaction.response.send_message(
                self.not_yours.text(interaction.locale), ephemeral=True
            )
            return False
        return True

"""The command tree with the bot's one error handler for every slash command."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from model_store import ModelStoreError

from .errors import UserFacingError

log = logging.getLogger(__name__)


def describe_error(error: app_commands.AppCommandError) -> tuple[str, bool]:
    """The ephemeral message for ``error``, and whether it is unexpected (to be logged)."""
    if isinstance(error, app_commands.CommandInvokeError):
        original = error.original
        if isinstance(original, ModelStoreError):
            return str(original)[:1900], False
        return "Something went wrong on my side; it has been logged. Please try again.", True
    if isinstance(error, UserFacingError):
        return str(error), False
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: you can use this again in {error.retry_after:.0f} s.", False
    if isinstance(error, app_commands.MissingPermissions):
        perms = ", ".join(p.replace("_", " ") for p in error.missing_permissions)
        return f"You need the {perms} permission for that.", False
    if isinstance(error, app_commands.NoPrivateMessage):
        return "That command works in a server, not in DMs.", False
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use that command here.", False
    if isinstance(error, app_commands.TransformerError):
        return f"That value doesn't work for this option: {error.value!r}.", False
    return "Something went wrong on my side; it has been logged. Please try again.", True


class BotTree(app_commands.CommandTree):
    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        message, unexpected = describe_error(error)
        if unexpected:
            command = interaction.command.qualified_name if interaction.command else "?"
            log.error("command /%s failed", command, exc_info=error)
        try:
            kind = interaction.response.type
            if kind == discord.InteractionResponseType.deferred_channel_message:
                # A public "thinking..." placeholder: replace it rather than leave it hanging.
                await interaction.edit_original_response(
                    content=message, attachments=[], embed=None, view=None
                )
            elif interaction.response.is_done():
                await interaction.followup.send(message, ephemeral=True)
            else:
                await interaction.response.send_message(message, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not report an error to the user", exc_info=True)

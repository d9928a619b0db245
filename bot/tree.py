"""The command tree with the bot's one error handler for every slash command.

Every error reply is private: an ephemeral message, or, when the command had already deferred
publicly ("lstm-bot is thinking..."), the public placeholder is deleted and the error follows
as an ephemeral followup. Commands defer with :func:`defer`, which remembers whether the
deferral was private so that the handler can simply edit it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import discord
from discord import app_commands

from model_store import ModelStoreError

from .errors import UserFacingError
from .formatting import MESSAGE_LIMIT, shorten

log = logging.getLogger(__name__)

SOMETHING_WENT_WRONG = "Something went wrong on my side; it has been logged. Please try again."
_PRIVATE_DEFER = "lstm_bot_private_defer"


async def defer(interaction: discord.Interaction, *, ephemeral: bool = False) -> None:
    """Acknowledge now ("thinking..."), before any database or model work."""
    interaction.extras[_PRIVATE_DEFER] = ephemeral
    await interaction.response.defer(ephemeral=ephemeral, thinking=True)


def describe_error(error: app_commands.AppCommandError) -> tuple[str, bool]:
    """The ephemeral message for ``error``, and whether it is unexpected (to be logged)."""
    if isinstance(error, app_commands.CommandInvokeError):
        original = error.original
        if isinstance(original, ModelStoreError):
            return _sentence(str(original)), False
        return SOMETHING_WENT_WRONG, True
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
        return f"That value doesn't work for this option: {shorten(repr(error.value), 200)}.", False
    return SOMETHING_WENT_WRONG, True


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


class BotTree(app_commands.CommandTree):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        #: Called as ``listener(interaction, message)`` for every error reported to a user
        #: (the offline console counts them to exit non-zero).
        self.error_listeners: list[Callable[[discord.Interaction, str], None]] = []

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        message, unexpected = describe_error(error)
        message = shorten(message, MESSAGE_LIMIT)
        if unexpected:
            command = interaction.command.qualified_name if interaction.command else "?"
            log.error("command /%s failed", command, exc_info=error)
        for listener in list(self.error_listeners):
            listener(interaction, message)
        try:
            await reply_privately(interaction, message)
        except discord.HTTPException:
            log.warning("could not report an error to the user", exc_info=True)


async def reply_privately(interaction: discord.Interaction, message: str) -> None:
    """Tell only the user ``message``, whatever the interaction's state."""
    response = interaction.response
    if not response.is_done():
        await response.send_message(message, ephemeral=True)
        return
    if response.type == discord.InteractionResponseType.deferred_channel_message:
        if interaction.extras.get(_PRIVATE_DEFER):
            await interaction.edit_original_response(
                content=message, attachments=[], embed=None, view=None
            )
            return
        try:  # a public placeholder: remove it rather than leave it (or the error) public
            await interaction.delete_original_response()
        except discord.HTTPException:
            log.warning("could not delete a public placeholder", exc_info=True)
    await interaction.followup.send(message, ephemeral=True)

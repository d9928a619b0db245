"""The command tree with the bot's one error handler for every application command (and,
through :meth:`BotTree.report`, for the buttons that outlive a view).

Every error reply is private and in the user's language: an ephemeral message, or, when the
command had already deferred publicly ("lstm-bot is thinking..."), the public placeholder is
deleted and the error follows as an ephemeral followup. Commands defer with :func:`defer`,
which remembers whether the deferral was private so that the handler can simply edit it.
A burst of commands (hundreds in one gateway read) starts a few per event-loop iteration
(:mod:`bot.admission`), so that the loop keeps turning.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import discord
from discord import app_commands

from model_store import ModelStoreError

from .admission import Admission
from .errors import UserFacingError
from .formatting import MESSAGE_LIMIT, sentence, shorten
from .generation import ModelUnavailable
from .i18n import t

log = logging.getLogger(__name__)

_PRIVATE_DEFER = "lstm_bot_private_defer"


async def defer(interaction: discord.Interaction, *, ephemeral: bool = False) -> None:
    """Acknowledge now ("thinking..."), before any database or model work."""
    interaction.extras[_PRIVATE_DEFER] = ephemeral
    await interaction.response.defer(ephemeral=ephemeral, thinking=True)


def describe_error(error: Exception, locale: object = None) -> tuple[str, bool]:
    """The ephemeral message for ``error`` in the language of ``locale``, and whether it is
    unexpected (to be logged)."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, UserFacingError):
        return error.text(locale), False
    if isinstance(error, ModelUnavailable):
        return error.reason.text(locale), False
    if isinstance(error, ModelStoreError):
        return t(locale, "error.model", detail=sentence(str(error))), False
    if isinstance(error, app_commands.CommandOnCooldown):
        seconds = max(1, math.ceil(error.retry_after))  # "in 0 s" would be wrong
        return t(locale, "error.cooldown", seconds=seconds), False
    if isinstance(error, app_commands.MissingPermissions):
        perms = ", ".join(permission_name(p, locale) for p in error.missing_permissions)
        return t(locale, "error.missing_permissions", permissions=perms), False
    if isinstance(error, app_commands.NoPrivateMessage):
        return t(locale, "error.no_dm"), False
    if isinstance(error, app_commands.CheckFailure):
        return t(locale, "error.check_failed"), False
    if isinstance(error, app_commands.TransformerError):
        return t(locale, "error.bad_value", value=shorten(repr(error.value), 200)), False
    return t(locale, "error.unexpected"), True


def permission_name(permission: str, locale: object = None) -> str:
    """A permission as Discord's settings name it ("Manage Server" for ``manage_guild``)."""
    if permission == "manage_guild":
        return t(locale, "permission.manage_guild")
    return permission.replace("_", " ")


class BotTree(app_commands.CommandTree):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        #: Called as ``listener(interaction, message)`` for every error reported to a user
        #: (the offline console counts them to exit non-zero).
        self.error_listeners: list[Callable[[discord.Interaction, str], None]] = []
        self.admission = Admission()  # a burst of commands starts a few per loop iteration

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """Each command waits its turn (:mod:`bot.admission`); once the bot is stopping,
        every command is answered "restarting, try again"."""
        await self.admission.turn()
        return not await refused_while_stopping(interaction)

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await self.report(interaction, error)

    async def report(self, interaction: discord.Interaction, error: Exception) -> None:
        """Tell the user privately what went wrong (a bug: logged, and said vaguely); a
        request refused before the model wrote anything gives its writing cooldown back."""
        cooldown = getattr(self.client, "cooldown", None)
        if cooldown is not None:  # refused before anything was written: it cost no turn
            cooldown.refund(interaction)
        message, unexpected = describe_error(error, interaction.locale)
        message = shorten(message, MESSAGE_LIMIT)
        if unexpected:
            if interaction.command is not None:
                what = "command /" + interaction.command.qualified_name
            else:
                what = "component " + str((interaction.data or {}).get("custom_id", "?"))
            log.error("%s failed", what, exc_info=error)
        for listener in list(self.error_listeners):
            listener(interaction, message)
        try:
            await reply_privately(interaction, message)
        except discord.HTTPException:
            log.warning("could not report an error to the user", exc_info=True)


async def refused_while_stopping(interaction: discord.Interaction) -> bool:
    """Once the bot is stopping, every command and every view's button is answered
    "restarting, try again" (privately) and does nothing: whether this one was refused."""
    flights = getattr(interaction.client, "flights", None)
    if flights is None or not flights.closing:
        return False
    if interaction.type is not discord.InteractionType.autocomplete:
        try:
            await reply_privately(interaction, t(interaction.locale, "bot.restarting"))
        except discord.HTTPException:
            log.warning("could not say 'restarting'", exc_info=True)
    return True


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

"""Who may change what a member owns (delete a model, cancel a job), and where: the commands
about a server's models, jobs and settings work in a server only."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import discord
from discord import app_commands
from discord.ext import commands

T = TypeVar("T")


async def may_manage(bot: commands.Bot, user: discord.abc.User, owner_id: int | None) -> bool:
    """The owner, a member with Manage Server, or the bot's owner."""
    if owner_id is not None and user.id == owner_id:
        return True
    if isinstance(user, discord.Member) and user.guild_permissions.manage_guild:
        return True
    return await bot.is_owner(user)


def server_only() -> Callable[[T], T]:
    """For a command about a server's models, jobs or settings: in DMs it says "use this in a
    server" (:class:`app_commands.NoPrivateMessage`), before any other check (put it right
    above the function). Discord hides a top-level guild-only command from DMs, not a
    subcommand of a group, so the check is what answers there."""

    async def predicate(interaction: discord.Interaction) -> bool:
        if interaction.guild_id is None:
            raise app_commands.NoPrivateMessage()
        return True

    def decorate(func: T) -> T:
        return app_commands.guild_only()(app_commands.check(predicate)(func))

    return decorate

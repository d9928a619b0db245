"""Who may change what a member owns (delete a model, cancel a job)."""

from __future__ import annotations

import discord
from discord.ext import commands


async def may_manage(bot: commands.Bot, user: discord.abc.User, owner_id: int | None) -> bool:
    """The owner, a member with Manage Server, or the bot's owner."""
    if owner_id is not None and user.id == owner_id:
        return True
    if isinstance(user, discord.Member) and user.guild_permissions.manage_guild:
        return True
    return await bot.is_owner(user)

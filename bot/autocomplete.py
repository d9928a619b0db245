"""Model choices for autocomplete, and scoped model lookup for every command."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from .errors import UserFacingError
from .formatting import loss_text, shorten
from .registry import ModelRecord

if TYPE_CHECKING:
    from .client import LSTMBot

MAX_CHOICES = 25


async def model_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Models this server may use whose name contains what was typed (prefix matches first)."""
    bot: LSTMBot = interaction.client  # type: ignore[assignment]
    needle = current.strip().lower()
    records = await bot.registry.visible(interaction.guild_id)
    matches = [r for r in records if needle in r.name]
    matches.sort(key=lambda r: (not r.name.startswith(needle), r.name))
    return [
        app_commands.Choice(
            name=shorten(
                f"{r.name} · {'built-in' if r.builtin else 'server'} · {loss_text(r.card)}", 100
            ),
            value=r.name,
        )
        for r in matches[:MAX_CHOICES]
    ]


async def resolve_model(interaction: discord.Interaction, name: str | None) -> ModelRecord:
    """The model ``name`` as this server sees it (autocomplete only suggests: check again)."""
    bot: LSTMBot = interaction.client  # type: ignore[assignment]
    name = (name or bot.settings.default_model).strip().lower()
    record = await bot.registry.get(interaction.guild_id, name)
    if record is None:
        raise UserFacingError(
            f"There is no model called `{shorten(name, 40)}` here. "
            "See `/model list` for the models this server can use."
        )
    return record

"""Model choices for autocomplete, and scoped model lookup for every command."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from .errors import UserFacingError
from .formatting import code, loss_text, shorten
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
        app_commands.Choice(name=shorten(_describe(bot, r), 100), value=r.name)
        for r in matches[:MAX_CHOICES]
    ]


def _describe(bot: LSTMBot, record: ModelRecord) -> str:
    where = "built-in" if record.builtin else "server"
    quality = "unavailable" if bot.registry.problem(record) else loss_text(record.card)
    return f"{record.name} · {where} · {quality}"


async def resolve_model(
    interaction: discord.Interaction, name: str | None, *, usable: bool = False
) -> ModelRecord:
    """The model ``name`` as this server sees it (autocomplete only suggests: check again).

    ``usable``: also refuse a model whose files are broken (it can still be deleted)."""
    bot: LSTMBot = interaction.client  # type: ignore[assignment]
    name = (name or bot.settings.default_model).strip().lower()
    record = await bot.registry.get(interaction.guild_id, name)
    if record is None:
        raise UserFacingError(
            f"There is no model called {code(shorten(name, 40))} here. "
            "See `/model list` for the models this server can use."
        )
    problem = bot.registry.problem(record) if usable else None
    if problem is not None:
        who = "the bot's operator" if record.builtin else "its owner (`/model delete`)"
        raise UserFacingError(
            f"The model `{record.name}` is unavailable: its files are damaged "
            f"({shorten(problem, 300)}). Try another model; {who} can fix it."
        )
    return record

"""Model choices for autocomplete, and scoped model lookup for every command."""

from __future__ import annotations

from typing import Protocol, cast

import discord
from discord import app_commands

from .errors import UserFacingError
from .formatting import code, loss_text, shorten
from .guild_settings import GuildSettings
from .i18n import t
from .registry import ModelRecord, ModelRegistry


class HoldsModels(Protocol):
    """What these lookups need of the client (``interaction.client``): no more."""

    registry: ModelRegistry
    guild_settings: GuildSettings


MAX_CHOICES = 25


async def model_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Models this server may use whose name contains what was typed (prefix matches first)."""
    bot = cast(HoldsModels, interaction.client)
    needle = current.strip().lower()
    records = await bot.registry.visible(interaction.guild_id)
    matches = [r for r in records if needle in r.name]
    matches.sort(key=lambda r: (not r.name.startswith(needle), r.name))
    locale = interaction.locale
    return [
        app_commands.Choice(name=shorten(_describe(bot, r, locale), 100), value=r.name)
        for r in matches[:MAX_CHOICES]
    ]


def _describe(bot: HoldsModels, record: ModelRecord, locale: object) -> str:
    where = t(locale, "model.builtin") if record.builtin else t(locale, "model.server")
    problem = bot.registry.problem(record)
    quality = t(locale, "model.unavailable") if problem else loss_text(record.card, locale)
    return f"{record.name} · {where} · {quality}"


async def resolve_model(
    interaction: discord.Interaction, name: str | None, *, usable: bool = False
) -> ModelRecord:
    """The model ``name`` as this server sees it (autocomplete only suggests: check again).

    ``usable``: also refuse a model whose files are broken (it can still be deleted). No name:
    the server's default model (``/model default``), else the bot's."""
    bot = cast(HoldsModels, interaction.client)
    if name is None or not name.strip():
        name = await bot.guild_settings.default_model(interaction.guild_id)
    name = name.strip().lower()
    record = await bot.registry.get(interaction.guild_id, name)
    if record is None:
        raise UserFacingError("model.not_found", name=code(shorten(name, 40)))
    if usable:
        check_usable(bot.registry, record)
    return record


def check_usable(registry: ModelRegistry, record: ModelRecord) -> None:
    """Refuse a model whose files are damaged, saying who can fix it."""
    problem = registry.problem(record)
    if problem is not None and record.builtin:
        raise UserFacingError(
            "model.damaged_builtin", name=record.name, problem=shorten(problem, 300)
        )
    if problem is not None:
        raise UserFacingError(
            "model.damaged_server", name=record.name, problem=shorten(problem, 300)
        )

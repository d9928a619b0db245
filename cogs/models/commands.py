"""/model list | info | default | delete: what models this server has, how good they are, who
made them, and which one writes when none is named."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import model_choices, resolve_model
from bot.client import LSTMBot
from bot.errors import UserFacingError
from bot.i18n import t
from bot.permissions import may_manage, server_only
from bot.registry import ModelGone
from bot.tree import defer
from model_store import SampleOptions

from .deletion import ModelDeletion
from .embeds import PAGE_SIZE, card_embed, list_page
from .views import ConfirmDelete, Pager

log = logging.getLogger(__name__)

SAMPLE_SEED = "The "


class Models(commands.GroupCog, group_name="model", group_description="Browse and manage models"):
    def __init__(self, bot: LSTMBot):
        self.bot = bot
        self.deletion = ModelDeletion(bot.registry, bot.guild_settings, bot.generation, bot.jobs)
        super().__init__()

    @app_commands.command(name="list", description="The models this server can use")
    async def list_models(self, interaction: discord.Interaction) -> None:
        await defer(interaction)
        locale = interaction.locale
        records = await self.bot.registry.visible(interaction.guild_id)
        default = await self.bot.guild_settings.default_model(interaction.guild_id)
        broken = {r.name for r in records if self.bot.registry.problem(r) is not None}
        view = None
        if len(records) > PAGE_SIZE:
            view = Pager(records, broken, interaction.user.id, locale, default)
        await interaction.edit_original_response(
            embed=list_page(records, 0, broken, locale, default),
            **({"view": view} if view else {}),
        )

    @app_commands.command(name="info", description="A model's card, with a short sample")
    @app_commands.describe(name="The model")
    @app_commands.autocomplete(name=model_choices)
    async def info(self, interaction: discord.Interaction, name: str) -> None:
        await defer(interaction)
        record = await resolve_model(interaction, name, usable=True)
        sample = await self.bot.generation.generate(
            record.path,
            record.checksum,
            record.name,
            SAMPLE_SEED,
            SampleOptions(temperature=0.5, length=160, rng_seed=0),
        )
        embed = card_embed(record, SAMPLE_SEED + sample, interaction.locale)
        await interaction.edit_original_response(embed=embed)

    @app_commands.command(
        name="default", description="Choose the model /generate uses here when none is named"
    )
    @app_commands.describe(name="The model (Manage Server)")
    @app_commands.autocomplete(name=model_choices)
    @app_commands.checks.has_permissions(manage_guild=True)
    @server_only()
    async def default(self, interaction: discord.Interaction, name: str) -> None:
        await defer(interaction, ephemeral=True)
        record = await resolve_model(interaction, name, usable=True)
        assert interaction.guild_id is not None
        # The bot's own default is stored as "none chosen": the server then follows the bot's
        # setting instead of pinning today's name.
        follows_bot = record.builtin and record.name == self.bot.settings.default_model
        try:
            await self.bot.guild_settings.set_default_model(
                interaction.guild_id, None if follows_bot else record
            )
        except ModelGone:  # deleted since it was looked up
            raise UserFacingError("default.gone", name=record.name) from None
        log.info("guild %s: default model %s", interaction.guild_id, record.name)
        await interaction.edit_original_response(
            content=t(interaction.locale, "default.set", name=record.name)
        )

    @app_commands.command(name="delete", description="Delete a model of this server")
    @app_commands.describe(name="The model to delete")
    @app_commands.autocomplete(name=model_choices)
    @server_only()
    async def delete(self, interaction: discord.Interaction, name: str) -> None:
        await defer(interaction, ephemeral=True)
        record = await resolve_model(interaction, name)
        if record.builtin:
            raise UserFacingError("delete.builtin", name=record.name)
        member = interaction.user
        allowed = await may_manage(self.bot, member, record.owner_id)
        if not allowed:
            raise UserFacingError("delete.not_allowed")
        locale = interaction.locale
        await interaction.edit_original_response(
            content=t(locale, "delete.ask", name=record.name),
            view=ConfirmDelete(
                self.deletion, self.bot.settings.default_model, record, member.id, locale
            ),
        )

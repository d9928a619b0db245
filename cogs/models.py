"""/model list | info | delete: what models this server has, how good they are, who made them."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import model_choices, resolve_model
from bot.client import LSTMBot
from bot.errors import UserFacingError
from bot.formatting import FIELD_LIMIT, escape_within, loss_text
from bot.permissions import may_manage
from bot.registry import ModelRecord
from bot.tree import SOMETHING_WENT_WRONG, defer
from model_store import SampleOptions
from model_store.outcome import Outcome

log = logging.getLogger(__name__)

PAGE_SIZE = 8
SAMPLE_SEED = "The "


def _owner(record: ModelRecord) -> str:
    return "built-in" if record.builtin else f"by <@{record.owner_id}>"


def list_page(records: list[ModelRecord], page: int, broken: set[str]) -> discord.Embed:
    """One page of the list; models named in ``broken`` are shown as unavailable."""
    pages = max(1, -(-len(records) // PAGE_SIZE))
    embed = discord.Embed(title="Models on this server", colour=discord.Colour.blurple())
    for r in records[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]:
        if r.name in broken:
            value = f"{_owner(r)} · ⚠️ unavailable: its files are damaged"
        else:
            value = (
                f"{_owner(r)} · base {r.base or '—'}\n"
                f"held-out loss {loss_text(r.card)} · created {r.created_at[:10] or '?'}"
            )
        embed.add_field(name=r.name, value=value, inline=False)
    embed.set_footer(text=f"page {page + 1}/{pages} · lower loss = closer to the style")
    return embed


class Pager(discord.ui.View):
    def __init__(self, records: list[ModelRecord], broken: set[str], user_id: int):
        super().__init__(timeout=300)
        self.records, self.broken, self.user_id, self.page = records, broken, user_id, 0
        self.pages = max(1, -(-len(records) // PAGE_SIZE))
        self._sync()

    def _sync(self) -> None:
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page >= self.pages - 1

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.user_id:
            await interaction.response.send_message(
                "Run `/model list` yourself to page.", ephemeral=True
            )
            return False
        return True

    async def _show(self, interaction: discord.Interaction, delta: int) -> None:
        self.page = max(0, min(self.pages - 1, self.page + delta))
        self._sync()
        embed = list_page(self.records, self.page, self.broken)
        await interaction.response.edit_message(embed=embed, view=self)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        await self._show(interaction, -1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        await self._show(interaction, +1)


class ConfirmDelete(discord.ui.View):
    def __init__(self, cog: Models, record: ModelRecord, user_id: int):
        super().__init__(timeout=60)
        self.cog, self.record, self.user_id = cog, record, user_id

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.user_id:
            await interaction.response.send_message(
                "Only the person who asked can confirm.", ephemeral=True
            )
            return False
        return True

    @discord.ui.button(label="Delete", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        self.stop()
        name = self.record.name  # acknowledge first, then delete (files and database)
        await interaction.response.edit_message(content=f"Deleting `{name}`…", view=None)
        try:
            await self.cog.delete_model(self.record)
        except Exception:
            log.exception("could not delete model %s", name)
            await interaction.edit_original_response(content=SOMETHING_WENT_WRONG)
            return
        await interaction.edit_original_response(
            content=f"Deleted `{name}` (its weights and its record)."
        )

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        self.stop()
        await interaction.response.edit_message(content="Nothing was deleted.", view=None)


class Models(commands.GroupCog, group_name="model", group_description="Browse and manage models"):
    def __init__(self, bot: LSTMBot):
        self.bot = bot
        super().__init__()

    @app_commands.command(name="list", description="The models this server can use")
    async def list_models(self, interaction: discord.Interaction) -> None:
        await defer(interaction)
        records = await self.bot.registry.visible(interaction.guild_id)
        broken = {r.name for r in records if self.bot.registry.problem(r) is not None}
        view = Pager(records, broken, interaction.user.id) if len(records) > PAGE_SIZE else None
        await interaction.edit_original_response(
            embed=list_page(records, 0, broken), **({"view": view} if view else {})
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
        await interaction.edit_original_response(embed=card_embed(record, SAMPLE_SEED + sample))

    @app_commands.command(name="delete", description="Delete a model of this server")
    @app_commands.describe(name="The model to delete")
    @app_commands.autocomplete(name=model_choices)
    @app_commands.guild_only()
    async def delete(self, interaction: discord.Interaction, name: str) -> None:
        await defer(interaction, ephemeral=True)
        record = await resolve_model(interaction, name)
        if record.builtin:
            raise UserFacingError(f"`{record.name}` is a built-in model; it can't be deleted.")
        member = interaction.user
        allowed = await may_manage(self.bot, member, record.owner_id)
        if not allowed:
            raise UserFacingError(
                "Only the model's owner or someone with Manage Server can delete it."
            )
        await interaction.edit_original_response(
            content=f"Delete `{record.name}`? Its weights go too; this can't be undone.",
            view=ConfirmDelete(self, record, member.id),
        )

    async def delete_model(self, record: ModelRecord) -> None:
        self.bot.generation.evict(record.path)
        await self.bot.registry.delete(record)
        if record.job_id is not None:  # an uploaded text kept from its training goes too
            await self.bot.jobs.delete_corpus(record.job_id)
        log.info("deleted model %s of guild %s", record.name, record.guild_id)


def card_embed(record: ModelRecord, sample: str) -> discord.Embed:
    card = record.card
    net = card.get("network", {})
    corpus = card.get("corpus", {})
    training = card.get("training", {})
    embed = discord.Embed(title=f"Model {record.name}", colour=discord.Colour.blurple())
    embed.add_field(name="Made by", value=_owner(record).removeprefix("by "))
    embed.add_field(name="Base model", value=record.base or "— (trained from scratch)")
    outcome = Outcome.from_card(card)  # next to its base's and a uniform guess
    embed.add_field(
        name="Held-out loss",
        value=f"{outcome.figures() if outcome else loss_text(card)} "
        f"({card.get('heldout_loss_bits', 0):.3f} bits/char)",
    )
    embed.add_field(
        name="Network",
        value=f"{net.get('layers')}× LSTM({net.get('units')}), {net.get('vocab_size')} characters",
    )
    embed.add_field(
        name="Corpus",
        value=f"{corpus.get('chars', 0):,} characters"
        + (f" ({escape_within(str(corpus['name']), 200)})" if corpus.get("name") else ""),
    )
    embed.add_field(
        name="Training",
        value=f"{training.get('epochs_run', '?')} epochs, "
        f"{card.get('training_seconds', 0) / 60:.1f} min",
    )
    embed.add_field(
        name="Sample (temperature 0.5)", value=escape_within(sample, FIELD_LIMIT), inline=False
    )
    embed.set_footer(text=f"created {card.get('created_at', '?')}")
    return embed


async def setup(bot: LSTMBot) -> None:
    await bot.add_cog(Models(bot))

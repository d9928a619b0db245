"""/model list | info | delete: what models this server has, how good they are, who made them."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import model_choices, resolve_model
from bot.client import LSTMBot, checksum
from bot.errors import UserFacingError
from bot.formatting import escape, loss_text, shorten
from bot.permissions import may_manage
from bot.registry import ModelRecord
from model_store import SampleOptions
from model_store.outcome import Outcome

log = logging.getLogger(__name__)

PAGE_SIZE = 8
SAMPLE_SEED = "The "


def _owner(record: ModelRecord) -> str:
    return "built-in" if record.builtin else f"by <@{record.owner_id}>"


def list_page(records: list[ModelRecord], page: int) -> discord.Embed:
    pages = max(1, -(-len(records) // PAGE_SIZE))
    embed = discord.Embed(title="Models on this server", colour=discord.Colour.blurple())
    for r in records[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]:
        card = r.card
        embed.add_field(
            name=r.name,
            value=(
                f"{_owner(r)} · base {r.base or '—'}\n"
                f"held-out loss {loss_text(card)} · created {r.created_at[:10] or '?'}"
            ),
            inline=False,
        )
    embed.set_footer(text=f"page {page + 1}/{pages} · lower loss = closer to the style")
    return embed


class Pager(discord.ui.View):
    def __init__(self, records: list[ModelRecord], user_id: int):
        super().__init__(timeout=300)
        self.records, self.user_id, self.page = records, user_id, 0
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
        await interaction.response.edit_message(embed=list_page(self.records, self.page), view=self)

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
        await self.cog.delete_model(self.record)
        await interaction.response.edit_message(
            content=f"Deleted `{self.record.name}` (its weights and its record).", view=None
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
        records = await self.bot.registry.visible(interaction.guild_id)
        view = Pager(records, interaction.user.id) if len(records) > PAGE_SIZE else None
        await interaction.response.send_message(
            embed=list_page(records, 0), **({"view": view} if view else {})
        )

    @app_commands.command(name="info", description="A model's card, with a short sample")
    @app_commands.describe(name="The model")
    @app_commands.autocomplete(name=model_choices)
    async def info(self, interaction: discord.Interaction, name: str) -> None:
        record = await resolve_model(interaction, name)
        await interaction.response.defer(thinking=True)
        sample = await self.bot.generation.generate(
            record.path,
            checksum(record.card),
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
        record = await resolve_model(interaction, name)
        if record.builtin:
            raise UserFacingError(f"`{record.name}` is a built-in model; it can't be deleted.")
        member = interaction.user
        allowed = await may_manage(self.bot, member, record.owner_id)
        if not allowed:
            raise UserFacingError(
                "Only the model's owner or someone with Manage Server can delete it."
            )
        await interaction.response.send_message(
            f"Delete `{record.name}`? Its weights go too; this can't be undone.",
            view=ConfirmDelete(self, record, member.id),
            ephemeral=True,
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
        + (f" ({escape(str(corpus['name']))})" if corpus.get("name") else ""),
    )
    embed.add_field(
        name="Training",
        value=f"{training.get('epochs_run', '?')} epochs, "
        f"{card.get('training_seconds', 0) / 60:.1f} min",
    )
    embed.add_field(
        name="Sample (temperature 0.5)", value=shorten(escape(sample), 1000), inline=False
    )
    embed.set_footer(text=f"created {card.get('created_at', '?')}")
    return embed


async def setup(bot: LSTMBot) -> None:
    await bot.add_cog(Models(bot))

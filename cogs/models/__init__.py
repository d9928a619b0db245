"""/model list | info | default | delete: what models this server has, how good they are, who
made them, and which one writes when none is named."""

from __future__ import annotations

import datetime
import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import model_choices, resolve_model
from bot.client import LSTMBot
from bot.errors import UserFacingError
from bot.formatting import FIELD_LIMIT, escape_within, loss_text, model_name
from bot.i18n import Num, t
from bot.job_views import figures
from bot.permissions import may_manage, server_only
from bot.registry import ModelGone, ModelRecord
from bot.tree import defer
from model_store import SampleOptions
from model_store.outcome import Outcome

log = logging.getLogger(__name__)

PAGE_SIZE = 8
SAMPLE_SEED = "The "


def _owner(record: ModelRecord, locale: object) -> str:
    if record.builtin:
        return t(locale, "model.builtin")
    return t(locale, "model.by", user=f"<@{record.owner_id}>")


def list_page(
    records: list[ModelRecord],
    page: int,
    broken: set[str],
    locale: object = None,
    default: str | None = None,
) -> discord.Embed:
    """One page of the list; models named in ``broken`` are shown as unavailable, the one
    named ``default`` as the server's default."""
    pages = max(1, -(-len(records) // PAGE_SIZE))
    embed = discord.Embed(title=t(locale, "list.title"), colour=discord.Colour.blurple())
    for r in records[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]:
        if r.name in broken:
            value = f"{_owner(r, locale)} · ⚠️ {t(locale, 'list.damaged')}"
        else:
            base = t(locale, "list.base", base=model_name(r.base or "—"))
            value = f"{_owner(r, locale)} · {base}\n" + t(
                locale,
                "list.loss",
                loss=loss_text(r.card, locale),
                date=r.created_at[:10] or "?",
            )
        if r.name == default:  # the model /generate uses here when none is named
            value = f"⭐ {t(locale, 'list.default')} · {value}"
        embed.add_field(name=model_name(r.name), value=value, inline=False)
    embed.set_footer(text=t(locale, "list.footer", page=page + 1, pages=pages))
    return embed


class Pager(discord.ui.View):
    def __init__(
        self,
        records: list[ModelRecord],
        broken: set[str],
        user_id: int,
        locale: object,
        default: str | None,
    ):
        super().__init__(timeout=300)
        self.records, self.broken, self.user_id, self.page = records, broken, user_id, 0
        self.locale, self.default = locale, default
        self.pages = max(1, -(-len(records) // PAGE_SIZE))
        self.previous.label = t(locale, "list.previous")
        self.next.label = t(locale, "list.next")
        self._sync()

    def _sync(self) -> None:
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page >= self.pages - 1

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.user_id:
            await interaction.response.send_message(
                t(interaction.locale, "list.not_yours"), ephemeral=True
            )
            return False
        return True

    async def _show(self, interaction: discord.Interaction, delta: int) -> None:
        self.page = max(0, min(self.pages - 1, self.page + delta))
        self._sync()
        embed = list_page(self.records, self.page, self.broken, self.locale, self.default)
        await interaction.response.edit_message(embed=embed, view=self)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        await self._show(interaction, -1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        await self._show(interaction, +1)


class ConfirmDelete(discord.ui.View):
    def __init__(self, cog: Models, record: ModelRecord, user_id: int, locale: object):
        super().__init__(timeout=60)
        self.cog, self.record, self.user_id, self.locale = cog, record, user_id, locale
        self.confirm.label = t(locale, "delete.confirm")
        self.cancel.label = t(locale, "delete.cancel")

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.user_id:
            await interaction.response.send_message(
                t(interaction.locale, "delete.not_yours"), ephemeral=True
            )
            return False
        return True

    @discord.ui.button(label="Delete", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        self.stop()
        name, locale = self.record.name, self.locale  # acknowledge first, then delete
        await interaction.response.edit_message(
            content=t(locale, "delete.deleting", name=name), view=None
        )
        try:
            was_default = await self.cog.delete_model(self.record)
        except ModelGone:  # a stale dialog: that model is gone (another one may have its name)
            await interaction.edit_original_response(content=t(locale, "delete.gone", name=name))
            return
        except Exception:
            log.exception("could not delete model %s", name)
            await interaction.edit_original_response(content=t(locale, "error.unexpected"))
            return
        content = t(locale, "delete.done", name=name)
        if was_default:
            fallback = self.cog.bot.settings.default_model
            content += "\n" + t(locale, "delete.was_default", default=fallback)
        await interaction.edit_original_response(content=content)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        self.stop()
        await interaction.response.edit_message(content=t(self.locale, "delete.kept"), view=None)


class Models(commands.GroupCog, group_name="model", group_description="Browse and manage models"):
    def __init__(self, bot: LSTMBot):
        self.bot = bot
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
            view=ConfirmDelete(self, record, member.id, locale),
        )

    async def delete_model(self, record: ModelRecord) -> bool:
        """Delete ``record`` (that very model: :class:`ModelGone` when it has gone meanwhile);
        True when it was its server's default model (now unset)."""
        await self.bot.registry.hide(record)  # first: nothing can choose or use it any more
        was_default = await self.bot.guild_settings.forget_model(record)
        self.bot.generation.evict(record.path)
        await self.bot.registry.remove(record)
        # An uploaded text kept from its training goes too, if that job is in this queue.
        if record.job_id is not None and record.job_queue == await self.bot.jobs.identity():
            await self.bot.jobs.delete_corpus(record.job_id)
        log.info("deleted model %s of guild %s", record.name, record.guild_id)
        return was_default


def card_embed(record: ModelRecord, sample: str, locale: object = None) -> discord.Embed:
    card = record.card
    net = card.get("network", {})
    corpus = card.get("corpus", {})
    training = card.get("training", {})
    embed = discord.Embed(
        title=t(locale, "card.title", name=model_name(record.name)), colour=discord.Colour.blurple()
    )
    maker = t(locale, "model.builtin") if record.builtin else f"<@{record.owner_id}>"
    embed.add_field(name=t(locale, "card.made_by"), value=maker)
    embed.add_field(
        name=t(locale, "card.base"),
        value=model_name(record.base) if record.base else t(locale, "card.from_scratch"),
    )
    outcome = Outcome.from_card(card)  # next to its base's and a uniform guess
    loss = figures(outcome, locale) if outcome else loss_text(card, locale)
    bits = Num(card.get("heldout_loss_bits", 0), ".3f")
    embed.add_field(
        name=t(locale, "field.heldout"), value=t(locale, "card.loss", loss=loss, bits=bits)
    )
    embed.add_field(
        name=t(locale, "card.network"),
        value=t(
            locale,
            "card.network_value",
            layers=net.get("layers"),
            units=net.get("units"),
            vocab=net.get("vocab_size"),
        ),
    )
    chars = t(locale, "result.chars", chars=Num(corpus.get("chars", 0)))
    if corpus.get("name"):
        chars += f" ({escape_within(str(corpus['name']), 200)})"
    embed.add_field(name=t(locale, "field.corpus"), value=chars)
    embed.add_field(
        name=t(locale, "field.training"),
        value=t(
            locale,
            "card.training",
            epochs=training.get("epochs_run", "?"),
            minutes=Num(card.get("training_seconds", 0) / 60, ",.1f"),
        ),
    )
    embed.add_field(
        name=t(locale, "card.sample"), value=escape_within(sample, FIELD_LIMIT), inline=False
    )
    embed.set_footer(text=t(locale, "card.created"))
    embed.timestamp = _created_at(card)  # shown by Discord in the reader's time zone
    return embed


def _created_at(card: dict) -> datetime.datetime | None:
    try:
        when = datetime.datetime.fromisoformat(str(card.get("created_at")))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=datetime.UTC)


async def setup(bot: LSTMBot) -> None:
    await bot.add_cog(Models(bot))

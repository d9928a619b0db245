"""The models feature's views: the ``/model list`` pager and the ``/model delete`` dialog."""

from __future__ import annotations

import logging

import discord

from bot.i18n import Message, t
from bot.registry import ModelGone, ModelRecord
from bot.views import OwnedView

from .deletion import ModelDeletion
from .embeds import PAGE_SIZE, list_page

log = logging.getLogger(__name__)


class Pager(OwnedView):
    def __init__(
        self,
        records: list[ModelRecord],
        broken: set[str],
        user_id: int,
        locale: object,
        default: str | None,
    ):
        super().__init__(user_id, Message("list.not_yours"), timeout=300)
        self.records, self.broken, self.page = records, broken, 0
        self.locale, self.default = locale, default
        self.pages = max(1, -(-len(records) // PAGE_SIZE))
        self.previous.label = t(locale, "list.previous")
        self.next.label = t(locale, "list.next")
        self._sync()

    def _sync(self) -> None:
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page >= self.pages - 1

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


class ConfirmDelete(OwnedView):
    def __init__(
        self,
        deletion: ModelDeletion,
        fallback: str,
        record: ModelRecord,
        user_id: int,
        locale: object,
    ):
        super().__init__(user_id, Message("delete.not_yours"), timeout=60)
        self.deletion, self.fallback = deletion, fallback
        self.record, self.locale = record, locale
        self.confirm.label = t(locale, "delete.confirm")
        self.cancel.label = t(locale, "delete.cancel")

    @discord.ui.button(label="Delete", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        self.stop()
        name, locale = self.record.name, self.locale  # acknowledge first, then delete
        await interaction.response.edit_message(
            content=t(locale, "delete.deleting", name=name), view=None
        )
        try:
            was_default = await self.deletion.delete(self.record)
        except ModelGone:  # a stale dialog: that model is gone (another one may have its name)
            await interaction.edit_original_response(content=t(locale, "delete.gone", name=name))
            return
        except Exception:
            log.exception("could not delete model %s", name)
            await interaction.edit_original_response(content=t(locale, "error.unexpected"))
            return
        content = t(locale, "delete.done", name=name)
        if was_default:
            content += "\n" + t(locale, "delete.was_default", default=self.fallback)
        await interaction.edit_original_response(content=content)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        self.stop()
        await interaction.response.edit_message(content=t(self.locale, "delete.kept"), view=None)

"""Continue and Regenerate: the buttons under every generated reply.

They are discord.py dynamic items: the state lives in the custom id
(``lstm:c:<model id>:<model name>:<temperature>:<length>:<top_p>:<seed length>:<rng seed>``, see
:class:`.reply_text.ReplyState`), so they keep working after the bot restarts. Anyone who
can see the reply may press them. The work is :class:`.writer.ReplyWriter`'s; an error is
told privately, in the presser's language, by the command tree's handler.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.i18n import LANGUAGES, t

from .reply_text import STATE_PATTERN, ReplyState

CONTINUE, REGENERATE = "c", "r"


class _ReplyButton(discord.ui.DynamicItem[discord.ui.Button], template=r"lstm:[cr]:.*"):
    action = ""

    def __init__(self, state: ReplyState, label: str, style: discord.ButtonStyle) -> None:
        super().__init__(
            discord.ui.Button(
                label=label, style=style, custom_id=f"lstm:{self.action}:{state.encode()}"
            )
        )
        self.state = state

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> _ReplyButton:
        button: Any = item
        return cls(ReplyState.decode(match["state"]), button.label or "", button.style)

    async def callback(self, interaction: discord.Interaction) -> None:
        bot: Any = interaction.client
        await bot.tree.admission.turn()  # a burst of presses starts a few per loop iteration
        try:
            await self.act(bot.get_cog("Generate").writer, interaction)
        except Exception as exc:  # told privately; a bug is logged
            await bot.tree.report(interaction, exc)

    async def act(self, writer: Any, interaction: discord.Interaction) -> None:
        raise NotImplementedError


class ContinueButton(_ReplyButton, template=rf"lstm:c:{STATE_PATTERN}"):
    action = CONTINUE

    async def act(self, writer: Any, interaction: discord.Interaction) -> None:
        await writer.continue_reply(interaction, self.state)


class RegenerateButton(_ReplyButton, template=rf"lstm:r:{STATE_PATTERN}"):
    action = REGENERATE

    async def act(self, writer: Any, interaction: discord.Interaction) -> None:
        await writer.regenerate(interaction, self.state)


BUTTONS = (ContinueButton, RegenerateButton)


def reply_view(state: ReplyState, locale: Any) -> discord.ui.View:
    """The buttons under a reply, labelled in its language (:func:`reply_language`)."""
    view = discord.ui.View(timeout=None)
    view.add_item(ContinueButton(state, t(locale, "button.continue"), discord.ButtonStyle.primary))
    view.add_item(
        RegenerateButton(state, t(locale, "button.regenerate"), discord.ButtonStyle.secondary)
    )
    return view


def reply_state(message: discord.Message) -> ReplyState | None:
    """The state the buttons of a generated reply carry, or None (not such a reply, or its
    buttons are gone)."""
    for row in message.components:
        for item in getattr(row, "children", []):
            custom_id = getattr(item, "custom_id", None) or ""
            match = ContinueButton.__discord_ui_compiled_template__.fullmatch(custom_id)
            match = match or RegenerateButton.__discord_ui_compiled_template__.fullmatch(custom_id)
            if match is not None:
                return ReplyState.decode(match["state"])
    return None


def reply_language(message: discord.Message | None, fallback: Any) -> Any:
    """The language a reply was written in, as its buttons' labels say: what a press writes
    into the reply or below it stays in that language (what only the presser reads is in
    theirs). ``fallback`` when the labels don't tell."""
    for row in message.components if message is not None else []:
        for item in getattr(row, "children", []):
            custom_id = getattr(item, "custom_id", None) or ""
            if not custom_id.startswith(("lstm:c:", "lstm:r:")):
                continue
            key = "button.continue" if custom_id.startswith("lstm:c:") else "button.regenerate"
            for language in LANGUAGES:
                if t(language, key) == getattr(item, "label", None):
                    return language
    return fallback

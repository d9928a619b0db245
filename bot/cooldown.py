"""One cooldown for everything that writes text: ``/generate``, the Continue and Regenerate
buttons and the "Continue this text" message command share each user's budget
(``LSTM_BOT_GENERATE_COOLDOWN`` seconds between two of them)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import discord
from discord import app_commands

T = TypeVar("T")
_PRUNE_EVERY = 1000


class WritingCooldown:
    def __init__(self, seconds: Callable[[], float], clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds  # read at every use: the setting may change
        self.clock = clock
        self._last: dict[int, float] = {}

    def retry_after(self, user_id: int) -> float | None:
        """Seconds ``user_id`` must still wait, or None (and their use is counted)."""
        per = self.seconds()
        if per <= 0:
            return None
        now = self.clock()
        last = self._last.get(user_id)
        if last is not None and now - last < per:
            return per - (now - last)
        self._last[user_id] = now
        if len(self._last) % _PRUNE_EVERY == 0:
            self._last = {u: at for u, at in self._last.items() if now - at < per}
        return None

    def check(self, interaction: discord.Interaction) -> None:
        """Raise :class:`app_commands.CommandOnCooldown` when the user must wait."""
        retry = self.retry_after(interaction.user.id)
        if retry is not None:
            raise app_commands.CommandOnCooldown(app_commands.Cooldown(1, self.seconds()), retry)


def writing_cooldown() -> Callable[[T], T]:
    """A command check: the bot's :class:`WritingCooldown` (``bot.cooldown``)."""

    async def predicate(interaction: discord.Interaction) -> bool:
        bot: Any = interaction.client
        bot.cooldown.check(interaction)
        return True

    return app_commands.check(predicate)

"""One cooldown for everything that writes text: ``/generate``, the Continue and Regenerate
buttons and the "Continue this text" message command share each user's budget
(``LSTM_BOT_GENERATE_COOLDOWN`` seconds between two of them).

Only writing costs it. A request takes the user's turn when it is accepted (so two requests
at once can't both pass), and gives it back when it is refused before the model wrote
anything (a bad seed, an unknown or deleted model, a message without text, …): the command
tree's error handler calls :meth:`WritingCooldown.refund`, and the writer calls
:meth:`WritingCooldown.spent` once the model has started writing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import discord
from discord import app_commands

T = TypeVar("T")
_PRUNE_EVERY = 1000
_TAKEN = "lstm_bot_cooldown"  # interaction.extras: (when, the user's use before) while refundable


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
        """Take the user's turn, or raise :class:`app_commands.CommandOnCooldown` when they
        must wait."""
        user_id = interaction.user.id
        before = self._last.get(user_id)
        retry = self.retry_after(user_id)
        if retry is not None:
            raise app_commands.CommandOnCooldown(app_commands.Cooldown(1, self.seconds()), retry)
        if user_id in self._last:
            interaction.extras[_TAKEN] = (self._last[user_id], before)

    def spent(self, interaction: discord.Interaction) -> None:
        """The model has started writing for this request: its turn is used for good."""
        interaction.extras.pop(_TAKEN, None)

    def refund(self, interaction: discord.Interaction) -> None:
        """The request was refused before anything was written: give the user's turn back."""
        taken = interaction.extras.pop(_TAKEN, None)
        if taken is None:
            return
        when, before = taken
        user_id = interaction.user.id
        if self._last.get(user_id) != when:  # a later request of theirs took a turn since
            return
        if before is None:
            del self._last[user_id]
        else:
            self._last[user_id] = before


def writing_cooldown() -> Callable[[T], T]:
    """A command check: the bot's :class:`WritingCooldown` (``bot.cooldown``)."""

    async def predicate(interaction: discord.Interaction) -> bool:
        bot: Any = interaction.client
        bot.cooldown.check(interaction)
        return True

    return app_commands.check(predicate)

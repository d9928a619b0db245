"""A server's own settings (the ``guild_settings`` table): today, its default model.

``/model default`` sets it; ``/generate`` and the message command use it when no model is
named. A default that no longer names a model the server can use (deleted, or a built-in the
operator removed) counts as unset: the bot's default (``LSTM_BOT_DEFAULT_MODEL``) is used.
"""

from __future__ import annotations

from jobs.db import Database

from .registry import ModelRegistry


class GuildSettings:
    def __init__(self, db: Database, registry: ModelRegistry, bot_default: str):
        self.db = db
        self.registry = registry
        self.bot_default = bot_default

    async def chosen_model(self, guild_id: int | None) -> str | None:
        """The server's own choice of default model, as stored (None: none chosen)."""
        if not guild_id:
            return None
        row = await self.db.fetchone(
            "SELECT default_model FROM guild_settings WHERE guild_id = ?", (guild_id,)
        )
        return row[0] if row else None

    async def default_model(self, guild_id: int | None) -> str:
        """The model name to use when none is named: the server's choice while it exists."""
        chosen = await self.chosen_model(guild_id)
        if chosen and await self.registry.get(guild_id, chosen) is not None:
            return chosen
        return self.bot_default

    async def set_default_model(self, guild_id: int, name: str | None) -> None:
        """Choose ``name`` (None: back to the bot's default)."""
        await self.db.execute(
            "INSERT INTO guild_settings (guild_id, default_model) VALUES (?, ?)"
            " ON CONFLICT (guild_id) DO UPDATE SET default_model = excluded.default_model",
            (guild_id, name),
        )

    async def forget_model(self, guild_id: int, name: str) -> bool:
        """The model ``name`` is being deleted: unset it if it is the default; say if it was."""
        if await self.chosen_model(guild_id) != name:
            return False
        await self.set_default_model(guild_id, None)
        return True

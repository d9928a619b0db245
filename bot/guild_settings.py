"""A server's own settings (the ``guild_settings`` table): today, its default model.

``/model default`` sets it; ``/generate`` and the message command use it when no model is
named. The default is one model, kept by its id (ids are never reused): a default whose model
is gone (deleted, or a built-in the operator removed) counts as unset, and the bot's default
(``LSTM_BOT_DEFAULT_MODEL``) is used; a newer model of the same name does not inherit it.
"""

from __future__ import annotations

from .registry import ModelGone, ModelRecord, ModelRegistry
from .state_db import StateDatabase


class GuildSettings:
    def __init__(self, db: StateDatabase, registry: ModelRegistry, bot_default: str):
        self.db = db
        self.registry = registry
        self.bot_default = bot_default

    async def chosen_model(self, guild_id: int | None) -> ModelRecord | None:
        """The server's own choice of default model while it is a ready model it can see
        (None: none chosen, or its model is gone)."""
        if not guild_id:
            return None
        row = await self.db.fetchone(
            "SELECT m.* FROM guild_settings s JOIN models m ON m.id = s.default_model_id"
            " WHERE s.guild_id = ? AND m.status = 'ready' AND m.guild_id IN (0, ?)",
            (guild_id, guild_id),
        )
        return self.registry.record(row) if row else None

    async def default_model(self, guild_id: int | None) -> str:
        """The model name to use when none is named: the server's choice while it exists."""
        chosen = await self.chosen_model(guild_id)
        return chosen.name if chosen is not None else self.bot_default

    async def set_default_model(self, guild_id: int, record: ModelRecord | None) -> None:
        """Choose ``record`` (None: back to the bot's default). In one transaction with the
        check that it is still that very model, ready and visible here: :class:`ModelGone`
        when it is being deleted or gone."""
        async with self.db.transaction() as conn:
            if record is not None:
                async with conn.execute(
                    "SELECT 1 FROM models WHERE id = ? AND name = ? AND guild_id IN (0, ?)"
                    " AND status = 'ready'",
                    (record.id, record.name, guild_id),
                ) as cursor:
                    if await cursor.fetchone() is None:
                        raise ModelGone(f"the model '{record.name}' has been deleted")
            await conn.execute(
                "INSERT INTO guild_settings (guild_id, default_model_id) VALUES (?, ?)"
                " ON CONFLICT (guild_id)"
                " DO UPDATE SET default_model_id = excluded.default_model_id",
                (guild_id, None if record is None else record.id),
            )

    async def forget_model(self, record: ModelRecord) -> bool:
        """``record`` is being deleted: unset it where it is the default; say if it was."""
        changed = await self.db.execute(
            "UPDATE guild_settings SET default_model_id = NULL"
            " WHERE guild_id = ? AND default_model_id = ?",
            (record.guild_id, record.id),
        )
        return changed > 0

"""The models table: which models each server can see, with their cards and files.

Built-in models (shipped in ``model_store/builtin``) are rows with ``guild_id = 0``, synced
at start-up, visible to every server and never deletable. A server's own models are visible
to that server only; every lookup is scoped by guild.
"""

from __future__ import annotations

import json
import logging
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobs.db import Database
from model_store import ModelCatalog, ModelStoreError

BUILTIN_GUILD = 0
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelRecord:
    id: int
    name: str
    guild_id: int
    owner_id: int | None
    base: str | None
    status: str
    card: dict[str, Any]
    path: str
    created_at: str

    @property
    def builtin(self) -> bool:
        return self.guild_id == BUILTIN_GUILD

    @property
    def heldout_loss(self) -> float | None:
        return self.card.get("heldout_loss_nats")

    @classmethod
    def from_row(cls, row: Any) -> ModelRecord:
        return cls(
            row["id"],
            row["name"],
            row["guild_id"],
            row["owner_id"],
            row["base"],
            row["status"],
            json.loads(row["card"]),
            row["path"],
            row["created_at"],
        )


class ModelRegistry:
    def __init__(self, db: Database, catalog: ModelCatalog):
        self.db = db
        self.catalog = catalog

    async def sync_builtins(self) -> list[str]:
        """Make the built-in rows match the shipped models and the operator's models (those
        trained with ``lstm-bot train`` into the model directory); finish interrupted deletes.
        """
        names = []
        cards = {}
        for name in self.catalog.names():
            try:
                cards[name] = self.catalog.card(name)
            except ModelStoreError as exc:
                log.error("skipping model %s: %s", name, exc)
                continue
            names.append(name)
        async with self.db.transaction() as conn:
            for name in names:
                card = cards[name]
                path = str(self.catalog.store_of(name).path(name))
                await conn.execute(
                    "INSERT INTO models (name, guild_id, owner_id, base, card, path, created_at)"
                    " VALUES (?, 0, NULL, ?, ?, ?, ?)"
                    " ON CONFLICT (guild_id, name) DO UPDATE SET card = excluded.card,"
                    " path = excluded.path, base = excluded.base",
                    (
                        name,
                        card.get("base_model"),
                        json.dumps(card),
                        path,
                        card.get("created_at", ""),
                    ),
                )
            marks = ",".join("?" * len(names))
            await conn.execute(
                f"DELETE FROM models WHERE guild_id = 0 AND name NOT IN ({marks})", names
            )
        for row in await self.db.fetchall("SELECT * FROM models WHERE status = 'deleting'"):
            await self._remove(ModelRecord.from_row(row))
        return names

    async def visible(self, guild_id: int | None) -> list[ModelRecord]:
        """Built-in models first, then this server's, by name."""
        rows = await self.db.fetchall(
            "SELECT * FROM models WHERE status = 'ready' AND guild_id IN (0, ?)"
            " ORDER BY guild_id != 0, name",
            (guild_id or 0,),
        )
        return [ModelRecord.from_row(r) for r in rows]

    async def get(self, guild_id: int | None, name: str) -> ModelRecord | None:
        row = await self.db.fetchone(
            "SELECT * FROM models WHERE status = 'ready' AND name = ? AND guild_id IN (0, ?)"
            " ORDER BY guild_id = 0 LIMIT 1",
            (name, guild_id or 0),
        )
        return ModelRecord.from_row(row) if row else None

    async def count(self, guild_id: int) -> int:
        row = await self.db.fetchone(
            "SELECT COUNT(*) FROM models WHERE guild_id = ? AND status = 'ready'", (guild_id,)
        )
        return int(row[0])

    async def name_taken(self, guild_id: int, name: str) -> bool:
        row = await self.db.fetchone(
            "SELECT 1 FROM models WHERE name = ? AND guild_id IN (0, ?)", (name, guild_id)
        )
        return row is not None

    async def add(
        self, *, name: str, guild_id: int, owner_id: int | None, card: dict[str, Any], path: str
    ) -> ModelRecord:
        async with self.db.transaction() as conn:
            model_id = await insert_model(
                conn, name=name, guild_id=guild_id, owner_id=owner_id, card=card, path=path
            )
        row = await self.db.fetchone("SELECT * FROM models WHERE id = ?", (model_id,))
        return ModelRecord.from_row(row)

    async def delete(self, record: ModelRecord) -> None:
        """Hide the model at once, then remove its files, then its row."""
        if record.builtin:
            raise ModelStoreError(f"'{record.name}' is a built-in model and cannot be deleted")
        await self.db.execute("UPDATE models SET status = 'deleting' WHERE id = ?", (record.id,))
        await self._remove(record)

    async def _remove(self, record: ModelRecord) -> None:
        """Files first (weights, and any uploaded text kept from its training), then the row."""
        for row in await self.db.fetchall(
            "SELECT id, corpus_path FROM jobs WHERE model_id = ? AND corpus_deleted = 0",
            (record.id,),
        ):
            Path(row["corpus_path"]).unlink(missing_ok=True)
            await self.db.execute("UPDATE jobs SET corpus_deleted = 1 WHERE id = ?", (row["id"],))
        path = Path(record.path)
        if path.exists():
            trash = path.with_name(f".trash-{uuid.uuid4().hex}")
            path.rename(trash)
            shutil.rmtree(trash, ignore_errors=True)
        await self.db.execute("DELETE FROM models WHERE id = ?", (record.id,))


async def insert_model(
    conn: Any, *, name: str, guild_id: int, owner_id: int | None, card: dict[str, Any], path: str
) -> int:
    """Insert a model row inside the caller's transaction; returns its id."""
    cursor = await conn.execute(
        "INSERT INTO models (name, guild_id, owner_id, base, card, path, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            name,
            guild_id,
            owner_id,
            card.get("base_model"),
            json.dumps(card),
            path,
            card.get("created_at", ""),
        ),
    )
    row = await cursor.fetchone()
    return int(row[0])

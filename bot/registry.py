"""The models table: which models each server can see, with their cards and files.

Built-in models (shipped in ``model_store/builtin``) are rows with ``guild_id = 0``, synced
at start-up, visible to every server and never deletable. A server's own models are visible
to that server only; every lookup is scoped by guild.

A model whose files can't be read is *broken*: start-up checks the built-in models, and any
model that fails to load later is marked then. Broken models stay listed (as unavailable) and
deletable; the mark lives in memory, so a model fixed on disk is tried again after a restart.

A row's ``path`` is the key of its files in :mod:`bot.model_files` (a folder, or blobs in
PostgreSQL); deleting a model deletes them there.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model_store import ModelCatalog, ModelStoreError, load_artifact

from .model_files import LocalModelFiles, ModelFiles
from .state_db import StateDatabase

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
    path: str  # the key of its files (bot.model_files): a folder, or blobs in PostgreSQL
    created_at: str
    job_id: int | None = None  # the training job it came from: job job_id ...
    job_queue: str | None = None  # ... of the queue database of this identity

    @property
    def builtin(self) -> bool:
        return self.guild_id == BUILTIN_GUILD

    @property
    def checksum(self) -> str:
        """The weights' checksum from the card: with the path, it names one model version."""
        return str(self.card.get("checksums", {}).get("weights.npz", ""))

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
            row["job_id"],
            row["job_queue"],
        )


class ModelRegistry:
    def __init__(self, db: StateDatabase, catalog: ModelCatalog, files: ModelFiles | None = None):
        self.db = db
        self.catalog = catalog
        self.files = files or LocalModelFiles(catalog.user.root)
        self._broken: dict[tuple[str, str], str] = {}  # (path, checksum) -> what is wrong
        self._builtins: dict[str, str] = {}  # built-in name -> its folder on this machine

    def record(self, row: Any) -> ModelRecord:
        """A row as a record; a built-in model's path is its folder on this machine (bot
        processes on several machines share the rows, each syncs its own folders)."""
        record = ModelRecord.from_row(row)
        local = self._builtins.get(record.name) if record.builtin else None
        return dataclasses.replace(record, path=local) if local else record

    def is_builtin_path(self, path: str) -> bool:
        """Whether ``path`` is one of this machine's built-in model folders."""
        return path in self._builtins.values()

    def mark_broken(self, path: str, checksum: str, error: Exception) -> None:
        if (path, checksum) not in self._broken:
            log.error("model at %s is unavailable: %s", path, error)
        self._broken[(path, checksum)] = str(error)

    def problem(self, record: ModelRecord) -> str | None:
        """Why ``record`` can't be used right now, or ``None``."""
        return self._broken.get((record.path, record.checksum))

    async def sync_builtins(self) -> list[str]:
        """Make the built-in rows match the shipped models and the operator's models (those
        trained with ``lstm-bot train`` into the model directory); finish interrupted deletes.

        A model whose card can't be read gets a row with an empty card, marked broken.
        """
        names = self.catalog.names()
        self._builtins = {n: str(self.catalog.store_of(n).path(n)) for n in names}
        cards = {}
        for name in names:
            try:
                cards[name] = self.catalog.card(name)
            except ModelStoreError as exc:
                cards[name] = {}
                self.mark_broken(str(self.catalog.store_of(name).path(name)), "", exc)
        async with self.db.transaction() as conn:
            for name in names:
                card = cards[name]
                path = self._builtins[name]
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
            async with conn.execute("SELECT name FROM models WHERE guild_id = 0") as cursor:
                gone = {row[0] for row in await cursor.fetchall()} - set(names)
            for name in gone:
                await conn.execute("DELETE FROM models WHERE guild_id = 0 AND name = ?", (name,))
        for row in await self.db.fetchall("SELECT * FROM models WHERE status = 'deleting'"):
            await self.remove(self.record(row))
        return names

    async def check_builtins(self) -> list[str]:
        """Load every built-in model once (in a thread); mark and return the broken ones."""
        broken = []
        for record in await self.visible(BUILTIN_GUILD):
            if self.problem(record) is None:
                try:
                    await asyncio.to_thread(load_artifact, Path(record.path), record.name)
                except ModelStoreError as exc:
                    self.mark_broken(record.path, record.checksum, exc)
            if self.problem(record) is not None:
                broken.append(record.name)
        return broken

    async def visible(self, guild_id: int | None) -> list[ModelRecord]:
        """Built-in models first, then this server's, by name."""
        rows = await self.db.fetchall(
            "SELECT * FROM models WHERE status = 'ready' AND guild_id IN (0, ?)"
            " ORDER BY guild_id != 0, name",
            (guild_id or 0,),
        )
        return [self.record(r) for r in rows]

    async def get(self, guild_id: int | None, name: str) -> ModelRecord | None:
        row = await self.db.fetchone(
            "SELECT * FROM models WHERE status = 'ready' AND name = ? AND guild_id IN (0, ?)"
            " ORDER BY guild_id = 0 LIMIT 1",
            (name, guild_id or 0),
        )
        return self.record(row) if row else None

    async def by_id(self, guild_id: int | None, model_id: int) -> ModelRecord | None:
        """The model with this row id, if this server can see it (and it is not being
        deleted): what a button under a reply names."""
        row = await self.db.fetchone(
            "SELECT * FROM models WHERE id = ? AND status = 'ready' AND guild_id IN (0, ?)",
            (model_id, guild_id or 0),
        )
        return self.record(row) if row else None

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

    async def all_rows(self) -> list[ModelRecord]:
        """Every row, built-in or not, ready or being deleted."""
        return [self.record(r) for r in await self.db.fetchall("SELECT * FROM models")]

    async def by_job(self, queue: str, job_id: int) -> ModelRecord | None:
        """The model imported from job ``job_id`` of the queue named ``queue``."""
        row = await self.db.fetchone(
            "SELECT * FROM models WHERE job_queue = ? AND job_id = ?", (queue, job_id)
        )
        return self.record(row) if row else None

    async def adopt_results(self, queue: str, imported_as: dict[int, int | None]) -> int:
        """Give the queue named ``queue`` the models imported before results were keyed by
        queue: a row with ``job_id`` J and no queue is this queue's when the queue's job J
        was imported as that very row (``imported_as``: job id -> model id, from the queue).
        Rows of another queue (the bot moved) stay unowned: kept, matched by no job."""
        rows = await self.db.fetchall(
            "SELECT id, job_id FROM models WHERE job_queue IS NULL AND job_id IS NOT NULL"
        )
        mine = [r["id"] for r in rows if imported_as.get(r["job_id"]) == r["id"]]
        for model_id in mine:
            await self.db.execute("UPDATE models SET job_queue = ? WHERE id = ?", (queue, model_id))
        return len(mine)

    async def legacy_job_ids(self) -> list[int]:
        """Job ids of models imported before results were keyed by queue (no queue yet)."""
        rows = await self.db.fetchall(
            "SELECT job_id FROM models WHERE job_queue IS NULL AND job_id IS NOT NULL"
        )
        return [int(r["job_id"]) for r in rows]

    async def add(
        self,
        *,
        name: str,
        guild_id: int,
        owner_id: int | None,
        card: dict[str, Any],
        path: str,
        job: tuple[str, int] | None = None,
    ) -> ModelRecord:
        """Insert a server's model; :class:`NameInUse` when the server (or the built-ins)
        has one of that name. ``job``: the (queue identity, job id) it was trained by.
        Returns the row (the existing one for a known ``job``)."""
        if guild_id == BUILTIN_GUILD:
            raise ValueError("a server's model can't have the built-in models' server id")
        async with self.db.transaction() as conn:
            model_id = await _model_of_job(conn, job)
            if model_id is None:
                async with conn.execute(
                    "SELECT 1 FROM models WHERE name = ? AND guild_id IN (0, ?)", (name, guild_id)
                ) as cursor:
                    if await cursor.fetchone() is not None:
                        raise NameInUse(f"a model named '{name}' already exists")
                model_id = await _insert(conn, name, guild_id, owner_id, card, path, job)
        row = await self.db.fetchone("SELECT * FROM models WHERE id = ?", (model_id,))
        return self.record(row)

    async def hide(self, record: ModelRecord) -> None:
        """Start deleting ``record``: hidden at once from every lookup. Only that very model
        (same server, name and id; ids are never reused) and only while it is ready:
        :class:`ModelGone` otherwise, so a stale confirmation can't reach another model."""
        if record.builtin:
            raise ModelStoreError(f"'{record.name}' is a built-in model and cannot be deleted")
        changed = await self.db.execute(
            "UPDATE models SET status = 'deleting'"
            " WHERE id = ? AND guild_id = ? AND name = ? AND status = 'ready'",
            (record.id, record.guild_id, record.name),
        )
        if changed != 1:
            raise ModelGone(f"the model '{record.name}' has already been deleted")

    async def remove(self, record: ModelRecord) -> None:
        """Finish deleting a hidden model: files first (wherever they are), then the row."""
        await self.files.delete(record.path)
        await self.db.execute(
            "DELETE FROM models WHERE id = ? AND guild_id = ? AND name = ? AND status = 'deleting'",
            (record.id, record.guild_id, record.name),
        )
        self._broken = {k: v for k, v in self._broken.items() if k[0] != record.path}


class ModelGone(ModelStoreError):
    """The model a write was meant for is no longer there as it was captured (deleted, or
    being deleted)."""


class NameInUse(ModelStoreError):
    """A model of that name exists in the server or among the built-ins."""


async def _model_of_job(conn: Any, job: tuple[str, int] | None) -> int | None:
    if job is None:
        return None
    async with conn.execute(
        "SELECT id FROM models WHERE job_queue = ? AND job_id = ?", job
    ) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else None


async def _insert(
    conn: Any,
    name: str,
    guild_id: int,
    owner_id: int | None,
    card: dict[str, Any],
    path: str,
    job: tuple[str, int] | None,
) -> int:
    queue, job_id = job if job is not None else (None, None)
    cursor = await conn.execute(
        "INSERT INTO models"
        " (name, guild_id, owner_id, base, card, path, created_at, job_queue, job_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            name,
            guild_id,
            owner_id,
            card.get("base_model"),
            json.dumps(card),
            path,
            card.get("created_at", ""),
            queue,
            job_id,
        ),
    )
    row = await cursor.fetchone()
    return int(row[0])

"""Moving a single bot's state from its SQLite file to PostgreSQL: ``lstm-bot db migrate
--from-sqlite PATH`` (docs/deployment.md, "Moving the bot's state to PostgreSQL").

What moves: every model row that is ready (same ids, so the server settings' defaults, buttons
and confirmations keep naming the same models), with each server's model folder uploaded as
blobs (:class:`bot.model_files.PostgresModelFiles`; the row's path becomes its blob key), and
every server's settings. The id sequence is moved past every id the file ever gave (deleted
models' too), so none comes back. Replies being written, shard claims and the embedded job
queue stay behind (the bot is stopped while moving; workers drain the old queue first).

Refused while a bot process still runs on the file (its shard claims). Checked: the plan is
made before anything is written: a server's model whose folder is
missing or incomplete, or a row already in PostgreSQL that differs from the file's, refuses the
move (:class:`MoveRefused`, one line naming it); after the
copy, every row and every uploaded file's checksum is compared. Idempotent: rows already
there, equal, are left (running it again changes nothing, and says so). The SQLite file and
the model folders are only read, so going back is unsetting ``LSTM_BOT_DATABASE_URL``.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobs.config import SettingsError

from .db import bot_database
from .model_files import BLOB_PREFIX
from .sharding import running_claims
from .transfer import MODEL_FILES

MODEL_COLUMNS = (
    "id, name, guild_id, owner_id, base, status, card, path, created_at, job_id, job_queue"
)


class MoveRefused(SettingsError):
    """The move can't be made as asked; the message (one line) says why."""


@dataclass
class Plan:
    models: list[tuple] = field(default_factory=list)  # rows to insert, paths as in PG
    uploads: dict[str, Path] = field(default_factory=dict)  # blob key -> local folder
    settings: list[tuple] = field(default_factory=list)
    present: int = 0  # rows already there, equal
    sequence: int = 0  # the highest id the file ever gave


async def copy_from_sqlite(path: Path, url: str, files: Any) -> list[str]:
    """Copy the bot's state in the SQLite file ``path`` into PostgreSQL at ``url`` (its schema
    migrated), model folders through ``files``; one line per step."""
    if not Path(path).is_file():
        raise MoveRefused(f"no SQLite file at {path}: nothing to move")
    async with bot_database(path, embedded_queue=False) as old:
        running = await running_claims(old)
        if running:
            raise MoveRefused(
                f"the bot still runs on {path} ({running[0].describe()}): stop it first, "
                "or what it does after the copy stays behind"
            )
        source = await _read_sqlite(old)
    async with bot_database(path, url=url) as new:
        plan = await _plan(source, new)
        for key, folder in plan.uploads.items():
            await _upload(files, key, folder)
        await _write(new, plan)
        await _check(new, source)
    return _said(plan, source)


async def _read_sqlite(db: Any) -> dict[str, Any]:
    models = await db.fetchall(
        f"SELECT {MODEL_COLUMNS} FROM models WHERE status = 'ready' ORDER BY id"
    )
    settings = await db.fetchall("SELECT guild_id, default_model_id FROM guild_settings")
    seq = await db.fetchone("SELECT seq FROM sqlite_sequence WHERE name = 'models'")
    return {
        "models": [_moved(tuple(r)) for r in models],
        "folders": {_moved(tuple(r))[7]: Path(r["path"]) for r in models if r["guild_id"]},
        "settings": sorted(tuple(r) for r in settings),
        "sequence": int(seq[0]) if seq else 0,
    }


def _moved(row: tuple) -> tuple:
    """The row as it is in PostgreSQL: a server's model's path is its blob key."""
    guild_id, path = row[2], row[7]
    if guild_id and not path.startswith(BLOB_PREFIX):
        path = f"{BLOB_PREFIX}{guild_id}/{Path(path).name}"
    return (*row[:7], path, *row[8:])


async def _plan(source: dict[str, Any], db: Any) -> Plan:
    plan = Plan(sequence=source["sequence"])
    there = {r[0]: tuple(r) for r in await db.fetchall(f"SELECT {MODEL_COLUMNS} FROM models")}
    names = {(r[2], r[1]): r[0] for r in there.values()}
    for row in source["models"]:
        if there.get(row[0]) == row:
            plan.present += 1
        elif row[0] in there or names.get((row[2], row[1]), row[0]) != row[0]:
            raise MoveRefused(
                f"model {row[0]} ('{row[1]}' of server {row[2]}) differs from the row already "
                "in PostgreSQL: nothing was copied (move into an empty bot state)"
            )
        else:
            plan.models.append(row)
            if row[2]:
                plan.uploads[row[7]] = _folder_of(row, source["folders"][row[7]])
    settings = dict(tuple(r) for r in await db.fetchall("SELECT * FROM guild_settings"))
    for guild_id, default in source["settings"]:
        if guild_id not in settings:
            plan.settings.append((guild_id, default))
        elif settings[guild_id] != default:
            raise MoveRefused(
                f"server {guild_id}'s settings differ from those already in PostgreSQL: "
                "nothing was copied"
            )
        else:
            plan.present += 1
    return plan


def _folder_of(row: tuple, folder: Path) -> Path:
    """The model's folder, complete; :class:`MoveRefused` before anything is copied."""
    missing = sorted(name for name in MODEL_FILES if not (folder / name).is_file())
    if missing:
        what = "is missing" if not folder.is_dir() else f"lacks {', '.join(missing)}"
        raise MoveRefused(
            f"model {row[0]} ('{row[1]}' of server {row[2]}): its folder {folder} {what}; "
            "nothing was copied (put the folder back, or delete the model with /model delete "
            "on the bot first)"
        )
    return folder


async def _upload(files: Any, key: str, folder: Path) -> None:
    """A copy of ``folder`` is published (the store takes its folder over: ours stays)."""
    staging = files.cache / f".fetch-move-{uuid.uuid4().hex}"
    await asyncio.to_thread(shutil.copytree, folder, staging)
    try:
        await files.publish(staging, key.removeprefix(BLOB_PREFIX))
    finally:
        await asyncio.to_thread(shutil.rmtree, staging, True)


async def _write(db: Any, plan: Plan) -> None:
    marks = ", ".join("?" * len(MODEL_COLUMNS.split(",")))
    async with db.transaction() as conn:
        for row in plan.models:
            await conn.execute(f"INSERT INTO models ({MODEL_COLUMNS}) VALUES ({marks})", row)
        for row in plan.settings:
            await conn.execute(
                "INSERT INTO guild_settings (guild_id, default_model_id) VALUES (?, ?)", row
            )
        await _bump_sequence(conn, plan.sequence)


async def _bump_sequence(conn: Any, at_least: int) -> None:
    """The id sequence past ``at_least`` and every id there (never lowered: no id reused)."""
    async with conn.execute("SELECT pg_get_serial_sequence('models', 'id')") as cursor:
        sequence = (await cursor.fetchone())[0]
    async with conn.execute(f"SELECT last_value, is_called FROM {sequence}") as cursor:
        last, called = await cursor.fetchone()
    async with conn.execute("SELECT coalesce(max(id), 0) FROM models") as cursor:
        target = max(at_least, (await cursor.fetchone())[0])
    if target > (last if called else last - 1):
        await conn.execute("SELECT setval(?, ?)", (sequence, target))


async def _check(db: Any, source: dict[str, Any]) -> None:
    """Every row of the file is in PostgreSQL as planned; every uploaded file's checksum too."""
    there = {r[0]: tuple(r) for r in await db.fetchall(f"SELECT {MODEL_COLUMNS} FROM models")}
    wrong = [row[0] for row in source["models"] if there.get(row[0]) != row]
    settings = sorted(tuple(r) for r in await db.fetchall("SELECT * FROM guild_settings"))
    if wrong or not set(source["settings"]) <= set(settings):
        raise MoveRefused(f"after the copy, rows differ (models {wrong}): run it again")
    for key, folder in source["folders"].items():
        stored = await db.fetchall(
            "SELECT name, sha256 FROM model_files WHERE model = ?", (key.removeprefix(BLOB_PREFIX),)
        )
        if dict(tuple(r) for r in stored) != await asyncio.to_thread(_checksums, folder):
            raise MoveRefused(f"after the copy, the files of {key} differ: run it again")


def _checksums(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()
    }


def _said(plan: Plan, source: dict[str, Any]) -> list[str]:
    counts = f"{len(source['models'])} models and {len(source['settings'])} server settings"
    if not plan.models and not plan.settings:
        return [f"nothing to copy: all {counts} are there already"]
    return [
        f"copied {len(plan.models)} models ({len(plan.uploads)} uploaded as blobs) and "
        f"{len(plan.settings)} server settings ({plan.present} rows were there already)",
        f"checked: every row equal ({counts}), every uploaded file's SHA-256",
    ]


__all__ = ["MoveRefused", "copy_from_sqlite"]

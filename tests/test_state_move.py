"""Moving a single bot's SQLite state to PostgreSQL: ``lstm-bot db migrate --from-sqlite``
copies the registry (same ids) and server settings, uploads the servers' model folders as
blobs, checks every row after, changes nothing when run again, and never touches the file's
rows nor the model folders (going back = unsetting LSTM_BOT_DATABASE_URL)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import psycopg
import pytest

from bot.db import bot_database
from bot.guild_settings import GuildSettings
from bot.model_files import PostgresModelFiles
from bot.registry import ModelRegistry
from bot.transfer import sweep_orphans
from model_store import ModelCatalog, ModelStore, load_artifact

from .test_db_cli import lstm_bot

GUILD, OTHER = 7 << 22, 9 << 22
STATE = "-c search_path=lstm_bot"


async def a_small_bot(tmp_path: Path, tiny_model) -> dict:
    """The SQLite file of a bot that ran for a while: built-ins, two servers' models (the
    newest deleted: its id, above every row's, must never come back), each server's default."""
    builtin = tmp_path / "builtin"
    ModelStore(builtin).save(dataclasses.replace(tiny_model.artifact, name="basic"))
    data = tmp_path / "data"
    async with bot_database(data / "lstm-bot.sqlite3") as db:
        registry = ModelRegistry(db, ModelCatalog(data / "models", builtin))
        await registry.sync_builtins()
        made = {}
        for guild, name in ((GUILD, "mine"), (OTHER, "theirs"), (GUILD, "gone")):
            store = ModelStore(data / "guild-models" / str(guild))
            saved = store.save(dataclasses.replace(tiny_model.artifact, name=name))
            path = saved.rename(saved.with_name(f"{name}-j{len(made) + 1}-0a1b2c3d"))  # imported
            made[name] = await registry.add(
                name=name, guild_id=guild, owner_id=5, card=tiny_model.artifact.card, path=str(path)
            )
        await registry.hide(made["gone"])
        await registry.remove(made["gone"])
        settings = GuildSettings(db, registry, "basic")
        await settings.set_default_model(GUILD, made["mine"])
        await settings.set_default_model(OTHER, await registry.get(OTHER, "basic"))
        rows = [tuple(r) for r in await db.fetchall("SELECT * FROM models ORDER BY id")]
    return {"data": data, "made": made, "rows": rows}


def pg_rows(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url, options=STATE) as conn:
        return conn.execute(sql).fetchall()


@pytest.mark.slow  # runs lstm-bot three times
async def test_a_bot_moves_to_postgres_and_can_go_back(tmp_path, pg_url, tiny_model) -> None:
    bot = await a_small_bot(tmp_path, tiny_model)
    sqlite = bot["data"] / "lstm-bot.sqlite3"
    before = sqlite.read_bytes()
    env = {"LSTM_BOT_QUEUE_URL": pg_url, "LSTM_BOT_DATABASE_URL": pg_url}
    done = lstm_bot("db", "migrate", "--from-sqlite", str(sqlite), cwd=tmp_path, **env)
    assert done.returncode == 0, done.stderr
    assert "copied 3 models (2 uploaded as blobs) and 2 server settings" in done.stdout
    assert "checked: every row equal" in done.stdout

    mine, theirs = bot["made"]["mine"], bot["made"]["theirs"]
    moved = {r[0]: r for r in pg_rows(pg_url, "SELECT * FROM models ORDER BY id")}
    for row in bot["rows"]:
        path = row[7]
        if row[2] != 0:
            path = f"blob:{row[2]}/{Path(row[7]).name}"
        assert moved[row[0]] == (*row[:7], path, *row[8:])
    assert pg_rows(pg_url, "SELECT * FROM guild_settings ORDER BY guild_id") == [
        (GUILD, mine.id),
        (OTHER, 1),
    ]
    files = PostgresModelFiles(pg_url, tmp_path / "cache")
    await files.open()
    try:
        folder = await files.local_path(moved[theirs.id][7], theirs.checksum, "theirs")
        card = load_artifact(folder, "theirs").card
        assert card["name"] == "theirs" and card["checksums"] == theirs.card["checksums"]
        async with bot_database(sqlite, url=pg_url) as db:  # the bot's start on PostgreSQL
            registry = ModelRegistry(db, ModelCatalog(tmp_path / "m", tmp_path / "b"), files)
            await sweep_orphans(registry, bot["data"] / "guild-models")
    finally:
        await files.close()

    again = lstm_bot("db", "migrate", "--from-sqlite", str(sqlite), cwd=tmp_path, **env)
    assert again.returncode == 0, again.stderr
    assert "nothing to copy: all 3 models and 2 server settings are there already" in again.stdout
    assert sqlite.read_bytes() == before and Path(mine.path).is_dir()  # going back: as it was

    with psycopg.connect(pg_url, options=STATE) as conn:  # no id of the file comes back
        conn.execute(
            "INSERT INTO models (name, guild_id, card, path, created_at)"
            " VALUES ('new', %s, %s, '/x', '')",
            (GUILD, json.dumps({})),
        )
    new_id = pg_rows(pg_url, "SELECT id FROM models WHERE name = 'new'")[0][0]
    assert new_id > bot["made"]["gone"].id


async def test_a_conflicting_row_is_refused_and_nothing_is_copied(
    tmp_path, pg_state_url, tiny_model
) -> None:
    from bot.state_move import MoveRefused, copy_from_sqlite

    bot = await a_small_bot(tmp_path, tiny_model)
    with psycopg.connect(pg_state_url, options=STATE, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO models (id, name, guild_id, card, path, created_at)"
            " VALUES (%s, 'other', 5, '{}', '/x', '')",
            (bot["made"]["mine"].id,),
        )
    files = PostgresModelFiles(pg_state_url, tmp_path / "cache")
    await files.open()
    try:
        with pytest.raises(MoveRefused, match=f"model {bot['made']['mine'].id} .*differs"):
            await copy_from_sqlite(bot["data"] / "lstm-bot.sqlite3", pg_state_url, files)
    finally:
        await files.close()
    assert pg_rows(pg_state_url, "SELECT count(*) FROM models") == [(1,)]
    assert pg_rows(pg_state_url, "SELECT count(*) FROM model_files") == [(0,)]


async def test_a_missing_file_is_refused_before_anything(tmp_path, pg_state_url) -> None:
    from bot.state_move import MoveRefused, copy_from_sqlite

    with pytest.raises(MoveRefused, match="no SQLite file at"):
        await copy_from_sqlite(tmp_path / "nothing.sqlite3", pg_state_url, None)
    assert not (tmp_path / "nothing.sqlite3").exists()


async def test_a_model_whose_folder_is_missing_is_refused_before_anything(
    tmp_path, pg_state_url, tiny_model
) -> None:
    """Planned before any upload: no blobs of the models before it are left behind."""
    import shutil

    from bot.state_move import MoveRefused, copy_from_sqlite

    bot = await a_small_bot(tmp_path, tiny_model)
    theirs = bot["made"]["theirs"]
    shutil.rmtree(theirs.path)
    files = PostgresModelFiles(pg_state_url, tmp_path / "cache")
    await files.open()
    try:
        with pytest.raises(MoveRefused, match=f"model {theirs.id} \\('theirs' of server {OTHER}"):
            await copy_from_sqlite(bot["data"] / "lstm-bot.sqlite3", pg_state_url, files)
    finally:
        await files.close()
    assert pg_rows(pg_state_url, "SELECT count(*) FROM model_files") == [(0,)]
    assert pg_rows(pg_state_url, "SELECT count(*) FROM models") == [(0,)]


async def test_a_bot_still_running_on_the_file_is_refused(tmp_path, pg_state_url, tiny_model):
    """What it did after the copy (a model trained, a default chosen) would stay behind."""
    import os

    from bot.sharding import ShardClaims
    from bot.state_move import MoveRefused, copy_from_sqlite

    bot = await a_small_bot(tmp_path, tiny_model)
    sqlite = bot["data"] / "lstm-bot.sqlite3"
    async with bot_database(sqlite) as db:
        await ShardClaims(db, pid=os.getppid()).claim(1, (0,))  # a live process, this machine
    files = PostgresModelFiles(pg_state_url, tmp_path / "cache")
    await files.open()
    try:
        with pytest.raises(MoveRefused, match=f"still runs on .*process {os.getppid()}.*stop it"):
            await copy_from_sqlite(sqlite, pg_state_url, files)
        assert pg_rows(pg_state_url, "SELECT count(*) FROM models") == [(0,)]
        async with bot_database(sqlite) as db:
            await ShardClaims(db, pid=os.getppid()).release()  # it stopped
        said = await copy_from_sqlite(sqlite, pg_state_url, files)
        assert said[0].startswith("copied 3 models")
    finally:
        await files.close()

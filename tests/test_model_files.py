"""Where a model's files live (bot/model_files.py): the local folder, or checksummed blobs in
PostgreSQL with a read-through cache folder per machine, checked by SHA-256."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest

from bot import model_files
from bot.db import bot_database
from bot.generation import GenerationService
from bot.model_files import LocalModelFiles, ModelFilesError, PostgresModelFiles
from bot.registry import ModelRegistry
from model_store import ModelCatalog, ModelStoreError, SampleOptions, load_artifact
from model_store.artifact import CARD_FILE, CHARSET_FILE, WEIGHTS_FILE

from .make_tiny_model import DIRECTORY as TINY

FILES = (CARD_FILE, CHARSET_FILE, WEIGHTS_FILE)
KEY = "7/tiny-j1-0a1b2c3d"
STATE = "-c search_path=lstm_bot"  # the bot's tables' schema (bot/pg_migrate.py)


def staged(tmp_path: Path, name: str = "staged") -> Path:
    """A complete model folder, as the importer stages it (the store takes it over)."""
    folder = tmp_path / name
    shutil.copytree(TINY, folder)
    return folder


def original(name: str) -> bytes:
    return (TINY / name).read_bytes()


def checksum() -> str:
    return load_artifact(TINY).card["checksums"][WEIGHTS_FILE]


@pytest.fixture
def model_pg(pg_state_url: str) -> str:
    """A fresh database with the bot's state schema (the model files' tables among it)."""
    return pg_state_url


@pytest.fixture
async def machines(model_pg: str, tmp_path: Path) -> AsyncIterator[list[PostgresModelFiles]]:
    """Two "machines": the same database, each with its own cache folder."""
    stores = [PostgresModelFiles(model_pg, tmp_path / f"cache-{i}") for i in (1, 2)]
    for store in stores:
        await store.open()
    try:
        yield stores
    finally:
        for store in stores:
            await store.close()


def rows(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url, options=STATE) as conn:
        return conn.execute(sql, params).fetchall()


def execute(url: str, sql: str, params: tuple = ()) -> None:
    with psycopg.connect(url, autocommit=True, options=STATE) as conn:
        conn.execute(sql, params)


# ---- the local store: the folder on disk is the truth -----------------------------------


async def test_the_local_store_keeps_the_folder_where_it_is_put(tmp_path):
    files = LocalModelFiles(tmp_path / "guild-models")
    key = await files.publish(staged(tmp_path), KEY)
    folder = tmp_path / "guild-models" / KEY
    assert key == str(folder.resolve()) and not (tmp_path / "staged").exists()
    assert await files.local_path(key) == Path(key)
    assert (folder / WEIGHTS_FILE).read_bytes() == original(WEIGHTS_FILE)
    await files.delete(key)
    assert not folder.exists()


# ---- PostgreSQL: blobs, and a cache folder per machine ----------------------------------


async def test_a_model_folder_goes_round_trip_through_the_database(machines, model_pg):
    first, second = machines
    key = await first.publish(staged(first.cache.parent), KEY)
    stored = rows(model_pg, "SELECT name, size FROM model_files WHERE model = %s", (KEY,))
    assert sorted(stored) == sorted((n, len(original(n))) for n in FILES)
    folder = await second.local_path(key, checksum())
    assert folder.is_relative_to(second.cache)
    for name in FILES:
        assert (folder / name).read_bytes() == original(name)
    assert load_artifact(folder).card["name"] == "tiny"


async def test_two_machines_load_the_same_model(machines):
    first, second = machines
    key = await first.publish(staged(first.cache.parent), KEY)
    here, there = [await m.local_path(key, checksum()) for m in machines]
    assert here != there  # each machine its own copy
    assert here.is_relative_to(first.cache) and there.is_relative_to(second.cache)
    a, b = load_artifact(here), load_artifact(there)
    assert a.card == b.card and all((a.weights[k] == b.weights[k]).all() for k in a.weights)


async def test_the_builtin_and_older_models_stay_local(machines, tmp_path):
    first, _ = machines
    assert await first.local_path(str(TINY), checksum()) == TINY


async def test_a_damaged_or_missing_cached_file_is_fetched_again(machines):
    first, second = machines
    key = await first.publish(staged(first.cache.parent), KEY)
    folder = await second.local_path(key, checksum())
    weights = folder / WEIGHTS_FILE
    damaged = bytearray(weights.read_bytes())
    damaged[100] ^= 0xFF
    weights.write_bytes(bytes(damaged))
    (folder / CHARSET_FILE).unlink()
    again = await second.local_path(key, checksum())
    for name in FILES:
        assert (again / name).read_bytes() == original(name)
    assert [p.name for p in second.cache.rglob(".*")] == []  # no temporary folder left


async def test_a_tampered_blob_is_refused_and_leaves_no_half_model(machines, model_pg):
    first, second = machines
    key = await first.publish(staged(first.cache.parent), KEY)
    execute(
        model_pg,
        "UPDATE model_file_parts SET data = set_byte(data, 50, get_byte(data, 50) # 255)"
        " WHERE model = %s AND name = %s AND start = 0",
        (KEY, WEIGHTS_FILE),
    )
    with pytest.raises(ModelFilesError, match="weights.npz .*does not match its checksum"):
        await second.local_path(key, checksum(), "poet")
    assert not (second.cache / KEY).exists()
    assert [p.name for p in second.cache.rglob(".*")] == []


async def test_a_blob_that_disagrees_with_the_card_is_refused(machines, model_pg):
    """Bytes and checksum changed together: the card's (and the registry's) checksum of the
    weights still tells."""
    first, second = machines
    key = await first.publish(staged(first.cache.parent), KEY)
    other = b"not the weights"
    where = (KEY, WEIGHTS_FILE)
    execute(model_pg, "DELETE FROM model_file_parts WHERE model = %s AND name = %s", where)
    execute(
        model_pg,
        "UPDATE model_files SET sha256 = encode(sha256(%s), 'hex'), size = %s"
        " WHERE model = %s AND name = %s",
        (other, len(other), KEY, WEIGHTS_FILE),
    )
    execute(
        model_pg,
        "INSERT INTO model_file_parts (model, name, start, data) VALUES (%s, %s, 0, %s)",
        (KEY, WEIGHTS_FILE, other),
    )
    with pytest.raises(ModelFilesError, match="weights.npz"):
        await second.local_path(key, checksum(), "poet")


async def test_a_tampered_model_is_marked_broken_when_loaded(machines, model_pg, tmp_path):
    first, second = machines
    key = await first.publish(staged(tmp_path), KEY)
    execute(
        model_pg,
        "UPDATE model_file_parts SET data = set_byte(data, 9, get_byte(data, 9) # 1)"
        " WHERE model = %s AND name = %s",
        (KEY, CARD_FILE),
    )
    async with bot_database(tmp_path / "bot.sqlite3") as db:
        registry = ModelRegistry(db, ModelCatalog(tmp_path / "models", tmp_path / "builtin"))
        record = await registry.add(
            name="poet", guild_id=7, owner_id=1, card=load_artifact(TINY).card, path=key
        )
        service = GenerationService(resolve=second.local_path, on_load_error=registry.mark_broken)
        try:
            with pytest.raises(ModelStoreError, match="card.json"):
                await service.generate(
                    key, record.checksum, "poet", "The ", SampleOptions(length=5, rng_seed=1)
                )
        finally:
            service.close()
        assert "card.json" in (registry.problem(record) or "")


async def test_delete_removes_the_blobs_and_the_cached_copies(machines, model_pg):
    first, second = machines
    key = await first.publish(staged(first.cache.parent), KEY)
    await second.local_path(key, checksum())
    await first.delete(key)
    assert rows(model_pg, "SELECT count(*) FROM model_files") == [(0,)]
    assert rows(model_pg, "SELECT count(*) FROM model_file_parts") == [(0,)]
    assert not (first.cache / KEY).exists()
    # The other machine's copy goes the next time anything asks for it (or at its start).
    with pytest.raises(ModelFilesError, match="not in the database"):
        await second.local_path(key, checksum(), "poet")
    assert not (second.cache / KEY).exists()


async def test_a_cached_copy_of_a_deleted_model_is_swept_at_start(machines, tmp_path):
    first, second = machines
    key = await first.publish(staged(tmp_path), KEY)
    await second.local_path(key, checksum())
    await first.delete(key)
    await second.sweep_cache()
    assert not (second.cache / KEY).exists()


async def test_files_travel_in_chunks_never_whole(model_pg, tmp_path, monkeypatch):
    chunk = 4096
    store = PostgresModelFiles(model_pg, tmp_path / "cache", chunk_bytes=chunk)
    reader = PostgresModelFiles(model_pg, tmp_path / "other-cache", chunk_bytes=chunk)
    sent: list[int] = []
    received: list[int] = []
    write_part, read_part = PostgresModelFiles._write_part, PostgresModelFiles._read_part

    async def spy_write(self, tx, key, name, start, data):
        sent.append(len(data))
        await write_part(self, tx, key, name, start, data)

    async def spy_read(self, key, name, start):
        data = await read_part(self, key, name, start)
        received.append(len(data))
        return data

    monkeypatch.setattr(PostgresModelFiles, "_write_part", spy_write)
    monkeypatch.setattr(PostgresModelFiles, "_read_part", spy_read)
    await store.open()
    await reader.open()
    try:
        key = await store.publish(staged(tmp_path), KEY)
        folder = await reader.local_path(key, checksum())
    finally:
        await store.close()
        await reader.close()
    size = len(original(WEIGHTS_FILE))
    assert size > 4 * chunk
    assert max(sent) == chunk and max(received) == chunk
    assert sum(sent) == sum(received) == sum(len(original(n)) for n in FILES)
    parts = rows(
        model_pg,
        "SELECT count(*), max(octet_length(data)) FROM model_file_parts WHERE name = %s",
        (WEIGHTS_FILE,),
    )
    assert parts == [(-(-size // chunk), chunk)]
    assert (folder / WEIGHTS_FILE).read_bytes() == original(WEIGHTS_FILE)


async def test_opening_sweeps_what_a_crash_left_but_not_a_fetch_under_way(model_pg, tmp_path):
    """Processes of one machine may share a cache folder: one starting must not remove the
    temporary folder another is fetching into; one left by a crash goes once it is old."""
    cache = tmp_path / "cache"
    old, busy, trash = cache / ".fetch-old", cache / ".fetch-busy", cache / "7" / ".trash-x"
    for folder in (old, busy, trash):
        folder.mkdir(parents=True)
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    store = PostgresModelFiles(model_pg, cache)
    await store.open()
    await store.close()
    assert busy.exists() and not old.exists() and not trash.exists()


async def test_processes_sharing_a_cache_folder_fetch_at_once(
    machines, model_pg, tmp_path, monkeypatch
):
    """Two processes of one machine (one cache folder) fetching the same model at once: one
    copy is kept, never replaced by the other's (a process may be reading it)."""
    first, _ = machines
    key = await first.publish(staged(tmp_path), KEY)
    shared = tmp_path / "shared-cache"
    a, b = (PostgresModelFiles(model_pg, shared) for _ in range(2))
    replaced: list[Path] = []
    real = model_files.remove_folder

    def spy(path: Path) -> None:
        if path.exists() and not path.name.startswith("."):
            replaced.append(path)
        real(path)

    monkeypatch.setattr(model_files, "remove_folder", spy)
    await a.open()
    await b.open()
    try:
        here, there = await asyncio.gather(
            a.local_path(key, checksum()), b.local_path(key, checksum())
        )
    finally:
        await a.close()
        await b.close()
    assert here == there == shared / KEY and replaced == []
    assert (here / WEIGHTS_FILE).read_bytes() == original(WEIGHTS_FILE)
    assert [p.name for p in shared.rglob(".*")] == []


def test_a_folder_another_process_removes_meanwhile_is_no_error(tmp_path, monkeypatch):
    """`lstm-bot run --processes N` on PostgreSQL: the processes open one cache folder at once
    and each sweeps the same cached copies of deleted models."""
    from bot.model_files import remove_folder

    folder = tmp_path / "7" / "gone-j1-0a1b2c3d"
    folder.mkdir(parents=True)
    rename = Path.rename

    def another_process_first(self: Path, target):
        if self == folder:
            rename(folder, tmp_path / "7" / ".trash-theirs")  # its remove_folder, just before
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", another_process_first)
    remove_folder(folder)
    assert not folder.exists()

"""Two bot processes as on two machines: each its own data folder and its own built-in models'
folder, one shard each, state and queue on one PostgreSQL URL. Both serve their servers; a
model stored by a third process (its files as blobs) is fetched and used by the one holding
its server; a delete through that one is seen by everyone; kill -9 of one leaves the other
serving."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
from pathlib import Path

from bot.db import bot_database
from bot.model_files import PostgresModelFiles
from bot.registry import ModelRegistry
from fake_discord import FakeDiscord
from model_store import ModelCatalog, ModelStore, load_artifact

from ..jobs.procs import wait_exit
from .helpers import answered
from .test_models import _custom_id, confirmed
from .test_shard_processes import _generate, _ready_shards, _start


async def store_a_model(tmp_path: Path, url: str, guild_id: int, owner_id: int, tiny_model):
    """What a bot on a third machine does when it imports a result: blobs, then the row."""
    folder = ModelStore(tmp_path / "staged").save(
        dataclasses.replace(tiny_model.artifact, name="mine")
    )
    files = PostgresModelFiles(url, tmp_path / "third-cache")
    await files.open()
    try:
        key = await files.publish(folder, f"{guild_id}/mine-j1-0a1b2c3d")
        async with bot_database(tmp_path / "unused.sqlite3", url=url) as db:
            registry = ModelRegistry(db, ModelCatalog(tmp_path / "m", tmp_path / "b"), files)
            card = load_artifact(files.cache / f"{guild_id}/mine-j1-0a1b2c3d").card
            return await registry.add(
                name="mine", guild_id=guild_id, owner_id=owner_id, card=card, path=key
            )
    finally:
        await files.close()


async def test_two_machines_share_one_postgres(tmp_path, builtin_dir, pg_state_url, tiny_model):
    async with FakeDiscord(quiet_period=0.05, ack_timeout=1.0) as fake:
        fake.sharding.recommended, fake.sharding.max_concurrency = 2, 2
        g0, g1 = fake.add_guild("zero", shard=(0, 2)), fake.add_guild("one", shard=(1, 2))
        alice = fake.add_user("alice")
        for guild in (g0, g1):
            fake.add_member(guild, alice)
        record = await store_a_model(tmp_path, pg_state_url, g1.id, alice.id, tiny_model)
        procs = []
        for shard in ("0", "1"):
            machine = tmp_path / f"machine{shard}"
            builtin = shutil.copytree(builtin_dir, machine / "builtin")  # installed elsewhere
            env = {
                "LSTM_BOT_DATA_DIR": str(machine / "data"),
                "LSTM_BOT_QUEUE_URL": pg_state_url,
                "LSTM_BOT_DATABASE_URL": pg_state_url,
                "LSTM_BOT_SHARD_COUNT": "2",
                "LSTM_BOT_SHARD_IDS": shard,
            }
            procs.append(_start(fake, tmp_path, builtin, f"bot{shard}", **env))
        try:
            await fake.wait_until(
                lambda: _ready_shards(fake) == [[0, 2], [1, 2]] and fake.find_command("generate"),
                90,
            )
            for guild in (g0, g1):
                assert (await _generate(fake, guild, alice)).content.startswith("**The **")
            options = {"seed": "The ", "temperature": 0.5, "model": "mine"}
            ix = await fake.invoke(g1, alice, "generate", options)
            await ix.wait_content(lambda c: c and "characters" in c and "writing" not in c, 30)
            assert "mine" in ix.content
            assert (tmp_path / "machine1/data/model-cache" / str(g1.id)).is_dir()

            ix = await fake.invoke(g1, alice, "model delete", {"name": "mine"})
            await answered(ix)
            await confirmed(await fake.click(ix, alice, _custom_id(ix, "Delete")), ix)
            async with bot_database(tmp_path / "unused.sqlite3", url=pg_state_url) as db:
                registry = ModelRegistry(db, ModelCatalog(tmp_path / "m", tmp_path / "b"))
                assert await registry.by_id(g1.id, record.id) is None

            fake.assert_no_violations()
            os.kill(procs[0].pid, signal.SIGKILL)  # machine 0 is lost
            await fake.wait_until(lambda: _ready_shards(fake) == [[1, 2]], 30)
            assert (await _generate(fake, g1, alice)).content.startswith("**The **")
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    await wait_exit(proc, 30)
            fake.take_violations()
    password = pg_state_url.split(":")[2].split("@")[0]
    logs = (tmp_path / "bot0.log").read_text() + (tmp_path / "bot1.log").read_text()
    assert "bot state in postgresql://" in logs and password not in logs

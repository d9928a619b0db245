"""The bot with its state on PostgreSQL reads a server's model files through the blobs: a model
stored by another machine answers /model info and /generate from this bot's cache folder, is
sent as a base model's files to /train's job, and /model delete removes its blobs, and the
cached copies of the other bots too."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import psycopg
import pytest

from bot.client import LSTMBot
from bot.model_files import PostgresModelFiles
from bot.pg_migrate import SCHEMA
from bot.settings import Settings
from fake_discord import FakeDiscord
from fake_discord.testing import running_bot
from model_store import ModelStore, load_artifact
from model_store.artifact import CARD_FILE, CHARSET_FILE, WEIGHTS_FILE

from ..textgen import make_text
from .conftest import DEFAULT, Env
from .helpers import answered, reply, wait_until
from .test_models import _custom_id, confirmed

RELATIVE = "poet-j1-0a1b2c3d"


@pytest.fixture
def settings(tmp_path: Path, pg_state_url: str) -> Settings:
    """The bot's state and queue on PostgreSQL, its cache folder its own."""
    return Settings(
        data_dir=tmp_path / "data",
        default_model=DEFAULT,
        generate_cooldown=0,
        min_corpus_chars=2000,
        database_url=pg_state_url,
        queue_url=pg_state_url,
        model_cache=tmp_path / "this-cache",
    )


@pytest.fixture
async def stored(env: Env, tmp_path: Path, tiny_model) -> AsyncIterator[dict]:
    """A model of server A stored as blobs by another machine, its row in the registry."""
    url = env.settings.state_conninfo
    folder = ModelStore(tmp_path / "elsewhere").save(
        dataclasses.replace(tiny_model.artifact, name="poet")
    )
    originals = {n: (folder / n).read_bytes() for n in (CARD_FILE, CHARSET_FILE, WEIGHTS_FILE)}
    other = PostgresModelFiles(url, tmp_path / "other-cache")
    await other.open()
    try:
        key = await other.publish(folder, f"{env.guild_a.id}/{RELATIVE}")
    finally:
        await other.close()
    card = load_artifact(tmp_path / "other-cache" / str(env.guild_a.id) / RELATIVE).card
    await env.bot.registry.add(
        name="poet", guild_id=env.guild_a.id, owner_id=env.alice.id, card=card, path=key
    )
    yield originals


def _cached(env: Env) -> Path:
    return env.settings.model_cache_path / str(env.guild_a.id) / RELATIVE


async def test_a_model_stored_elsewhere_is_fetched_served_and_deleted(env: Env, stored):
    assert not _cached(env).exists()
    info = await env.fake.invoke(env.guild_a, env.alice, "model info", {"name": "poet"})
    await info.wait_for(lambda i: i.embeds, timeout=30)
    assert _cached(env).is_dir()  # fetched into this bot's cache on first use
    for name, data in stored.items():
        assert (_cached(env) / name).read_bytes() == data
    options = {"seed": "The ", "temperature": 0.5, "model": "poet", "length": 30}
    gen = await env.fake.invoke(env.guild_a, env.alice, "generate", options)
    await gen.wait_content(lambda c: c and "30 characters" in c, timeout=30)

    ix = await env.fake.invoke(env.guild_a, env.alice, "model delete", {"name": "poet"})
    await answered(ix)
    await confirmed(await env.fake.click(ix, env.alice, _custom_id(ix, "Delete")), ix)
    assert "Deleted" in reply(ix) and not _cached(env).exists()
    with psycopg.connect(env.settings.state_conninfo, options=f"-c search_path={SCHEMA}") as conn:
        assert conn.execute("SELECT count(*) FROM model_files").fetchone() == (0,)


async def test_a_stored_model_is_sent_as_a_base_models_files(env: Env, stored):
    upload = env.fake.add_attachment("text.txt", make_text(3000, seed=3).encode())
    options = {"file": upload, "name": "child", "base": "poet", "effort": "quick"}
    ix = await env.fake.invoke(env.guild_a, env.alice, "train", options)
    await ix.wait_content(lambda c: c and "Queued job #" in c, timeout=30)
    job_id = int(ix.content.split("Queued job #", 1)[1].split(":", 1)[0])
    assert await env.bot.jobs.files(job_id, "base") == stored


async def test_a_delete_through_one_bot_removes_the_others_cached_copy(
    settings, builtin_dir, tmp_path, tiny_model
):
    """Two bots as on two machines (one shard each, own cache folders): a model loaded by one
    and deleted through the other is closed, and its cached copy removed, within a second."""
    async with FakeDiscord(quiet_period=0.05) as fake, AsyncExitStack() as stack:
        fake.sharding.max_concurrency = 2
        guilds = [fake.add_guild("zero", shard=(0, 2)), fake.add_guild("one", shard=(1, 2))]
        alice = fake.add_user("alice")
        for guild in guilds:
            fake.add_member(guild, alice)
        bots = []
        for shard in ("0", "1"):
            own = settings.replace(
                shard_count=2, shard_ids=shard, model_cache=tmp_path / f"cache-{shard}"
            )
            bot = LSTMBot(own, sync_commands=True, builtin_root=builtin_dir)
            bots.append(await stack.enter_async_context(running_bot(fake, bot)))
        bot0, bot1 = bots
        folder = ModelStore(tmp_path / "staged").save(
            dataclasses.replace(tiny_model.artifact, name="gone")
        )
        key = await bot1.model_files.publish(folder, f"{guilds[1].id}/gone-j1-0a1b2c3d")
        record = await bot1.registry.add(
            name="gone",
            guild_id=guilds[1].id,
            owner_id=alice.id,
            card=tiny_model.artifact.card,
            path=key,
        )
        engine = await bot0.generation.engine(record.path, record.checksum, record.name)
        copy = tmp_path / "cache-0" / str(guilds[1].id) / "gone-j1-0a1b2c3d"
        assert copy.is_dir()

        ix = await fake.invoke(guilds[1], alice, "model delete", {"name": "gone"})
        await answered(ix)
        await confirmed(await fake.click(ix, alice, _custom_id(ix, "Delete")), ix)
        await wait_until(lambda: engine.closed and not copy.exists(), 5, "closed and removed")
    fake.assert_no_violations()

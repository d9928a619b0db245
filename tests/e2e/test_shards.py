"""Two shards served by two bots on one database, the SQLite file or PostgreSQL (one process
here, for speed; the several-process story is in test_shard_processes.py): each server's
commands reach only the bot holding its shard; a delete through one closes the other's engine
of that model."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import discord
import pytest

from bot.client import LSTMBot
from fake_discord import FakeDiscord
from fake_discord.testing import running_bot
from model_store import ModelStore

from .helpers import answered, reply, wait_until
from .test_models import _custom_id, confirmed


@pytest.fixture
async def two_bots(settings, builtin_dir, request) -> AsyncIterator[tuple]:
    """Two bots, one shard each; on PostgreSQL (state and queue on one URL) when the test
    takes ``state_url`` and it is one."""
    url = request.getfixturevalue("state_url") if "state_url" in request.fixturenames else None
    if url:
        settings = settings.replace(database_url=url, queue_url=url)
    async with FakeDiscord(quiet_period=0.05) as fake, AsyncExitStack() as stack:
        fake.sharding.max_concurrency = 2  # both shards may identify at once
        guilds = [fake.add_guild("zero", shard=(0, 2)), fake.add_guild("one", shard=(1, 2))]
        alice = fake.add_user("alice")
        for guild in guilds:
            fake.add_member(guild, alice)
        bots = []
        for shard in ("0", "1"):
            shard_settings = settings.replace(shard_count=2, shard_ids=shard)
            bot = LSTMBot(shard_settings, sync_commands=True, builtin_root=builtin_dir)
            bots.append(await stack.enter_async_context(running_bot(fake, bot)))
        yield fake, bots, guilds, alice
    fake.assert_no_violations()


async def test_each_server_is_served_by_the_bot_holding_its_shard(two_bots) -> None:
    fake, bots, guilds, alice = two_bots
    assert [[g.id for g in bot.guilds] for bot in bots] == [[guilds[0].id], [guilds[1].id]]
    handled: list[list[int]] = [[], []]
    for i, bot in enumerate(bots):

        async def on_interaction(ix: discord.Interaction, i: int = i) -> None:
            handled[i].append(ix.guild_id or 0)

        bot.add_listener(on_interaction)
    for guild in guilds:
        ix = await fake.invoke(guild, alice, "generate", {"seed": "The ", "temperature": 0.5})
        await ix.wait_content(lambda c: c and "characters" in c and "writing" not in c, 30)
        assert ix.content.startswith("**The **")
    assert handled == [[guilds[0].id], [guilds[1].id]]
    assert all(
        bot.holds_guild(g.id) == (i == j)
        for i, bot in enumerate(bots)
        for j, g in enumerate(guilds)
    )


async def test_a_delete_through_one_bot_closes_the_others_engine(
    two_bots, tiny_model, state_url
) -> None:
    fake, (bot0, bot1), (_, guild1), alice = two_bots
    store = ModelStore(bot1.settings.guild_model_path / str(guild1.id))
    path = store.save(dataclasses.replace(tiny_model.artifact, name="gone"))
    record = await bot1.registry.add(
        name="gone",
        guild_id=guild1.id,
        owner_id=alice.id,
        card=tiny_model.artifact.card,
        path=str(path),
    )
    engine = await bot0.generation.engine(record.path, record.checksum, record.name)

    chosen = await fake.invoke(guild1, fake.owner, "model default", {"name": "gone"})
    await answered(chosen)
    assert await bot0.guild_settings.default_model(guild1.id) == "gone"  # one database

    ix = await fake.invoke(guild1, alice, "model delete", {"name": "gone"})
    await answered(ix)
    await confirmed(await fake.click(ix, alice, _custom_id(ix, "Delete")), ix)
    await wait_until(lambda: record.path not in bot0.generation.loaded_paths(), 5, "closed")
    assert engine.closed and "Deleted" in reply(ix)
    assert await bot0.registry.get(guild1.id, "gone") is None
    assert await bot0.guild_settings.default_model(guild1.id) == bot0.settings.default_model


async def test_a_jobs_progress_is_reported_by_the_bot_holding_its_server(
    two_bots, monkeypatch
) -> None:
    from cogs.training import job_reporter, reporter_for

    monkeypatch.setattr(job_reporter, "EDIT_INTERVAL", 0.0)
    fake, bots, guilds, alice = two_bots
    # Shard 0's process is away: its server's jobs wait.
    await bots[0].get_cog("Training").reporter.stop()
    queue = bots[1].jobs
    jobs = await running_jobs(queue, guilds, alice)
    bots[1].get_cog("Training").reporter.poke()

    def progress(guild) -> list:
        return [m for m in fake.channel_messages(guild.default_channel) if m.embeds]

    # Job 1 (shard 0's server) comes first in every pass: by the time shard 1's reporter
    # has shown job 2, it has passed job 1 over.
    await fake.wait_until(lambda: len(progress(guilds[1])) == 1, 10)
    assert progress(guilds[0]) == [] and len(progress(guilds[1])) == 1
    assert (await queue.get(jobs[0].id)).progress_message_id is None
    reporter = reporter_for(bots[0], 0.1)  # back: it catches up
    bots[0].get_cog("Training").reporter = reporter
    reporter.start()
    await fake.wait_until(lambda: len(progress(guilds[0])) == 1, 10)


async def test_a_starting_process_leaves_the_other_shards_model_folders(
    settings, builtin_dir
) -> None:
    """A folder without a row yet may be another process's import under way (published, row
    not written): a process starting (after a kill -9, say) sweeps only its own servers'."""
    async with FakeDiscord(quiet_period=0.05) as fake:
        guilds = [fake.add_guild("zero", shard=(0, 2)), fake.add_guild("one", shard=(1, 2))]
        folders = []
        for guild in guilds:
            folder = settings.guild_model_path / str(guild.id) / "mine-j7-0a1b2c3d"
            folder.mkdir(parents=True)
            folders.append(folder)
        bot = LSTMBot(
            settings.replace(shard_count=2, shard_ids="0"),
            sync_commands=True,
            builtin_root=builtin_dir,
        )
        async with running_bot(fake, bot):
            assert not folders[0].exists()  # its own server's: a crash's leftover, swept
            assert folders[1].is_dir()  # the other process's import under way: kept


async def test_discords_global_limit_is_shared_by_the_processes(two_bots, monkeypatch) -> None:
    """The 50 requests/s are per bot, not per process, and nothing coordinates them: each
    process meets the global 429s on its own, waits them out (discord.py holds every request
    of that process for ``retry_after``) and posts each message once."""
    from cogs.training import job_reporter

    monkeypatch.setattr(job_reporter, "EDIT_INTERVAL", 0.0)
    fake, bots, guilds, alice = two_bots
    fake.limits.global_per_second = 2
    queue = bots[0].jobs
    jobs = await running_jobs(queue, [guilds[n % 2] for n in range(6)], alice)
    for bot in bots:
        bot.get_cog("Training").reporter.poke()

    def progress(guild) -> list:
        return [m for m in fake.channel_messages(guild.default_channel) if m.embeds]

    await fake.wait_until(lambda: [len(progress(g)) for g in guilds] == [3, 3], 60)
    await asyncio.sleep(1.0)  # nothing posted twice after a 429
    assert [len(progress(g)) for g in guilds] == [3, 3]
    assert fake.limits.global_limited > 0  # the test met the limit
    said = fake.take_violations()
    assert said and all("global limit of 2/s" in v for v in said), said
    for job in jobs:
        assert (await queue.get(job.id)).progress_message_id is not None


async def test_a_process_whose_shards_were_taken_over_stops(
    settings, builtin_dir, state_url, monkeypatch
) -> None:
    """A process cut off from the database for over 30 s looked gone to the others, and one
    on another machine took its shards: when its heartbeat finds that, it stops, rather than
    answer its servers' commands a second time."""
    import bot.client

    monkeypatch.setattr(bot.client, "HEARTBEAT_SECONDS", 0.1)
    if state_url:
        settings = settings.replace(database_url=state_url, queue_url=state_url)
    async with FakeDiscord(quiet_period=0.05) as fake:
        fake.add_guild("zero", shard=(0, 2))
        lstm = LSTMBot(
            settings.replace(shard_count=2, shard_ids="0"),
            sync_commands=True,
            builtin_root=builtin_dir,
        )
        async with running_bot(fake, lstm):
            await lstm.db.execute("UPDATE bot_shards SET host = 'elsewhere#0123456789ab', pid = 1")
            await wait_until(lstm.is_closed, 10, "stopped")
        assert await lstm_rows(settings, state_url) == [(0, "elsewhere#0123456789ab", 1)]


async def lstm_rows(settings, url) -> list[tuple]:
    from bot.db import bot_database

    async with bot_database(settings.database_path, url=url) as db:
        rows = await db.fetchall("SELECT shard_id, host, pid FROM bot_shards")
    return [tuple(r) for r in rows]


async def running_jobs(queue, guilds, user) -> list:
    """A job per server of ``guilds`` (in order), each taken by a worker and started."""
    jobs = []
    for guild in guilds:
        job, _ = await queue.submit(
            guild_id=guild.id,
            channel_id=guild.default_channel.id,
            user_id=user.id,
            model_name=f"m{len(jobs)}",
            corpus=b"some text " * 300,
            params={"effort": "quick"},
        )
        jobs.append(job)
    for _ in jobs:
        lease = await queue.claim("w")
        await queue.add_event(lease, "started", {"resumed_from_epoch": 0, "device": "CPU"})
    return jobs

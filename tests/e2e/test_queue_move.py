"""Moving the bot from the embedded job queue to PostgreSQL, with the same bot data: job ids
start again at 1 in the new queue, and nothing of the old queue's results is taken for the
new queue's jobs (results are keyed by the queue's identity and the job id)."""

from __future__ import annotations

from pathlib import Path

from bot.client import LSTMBot
from fake_discord import FakeDiscord
from fake_discord.testing import running_bot
from jobs.postgres import PostgresQueue
from jobs.sqlite import SqliteQueue
from model_store.artifact import write_artifact

from ..jobs.procs import wait_for


def result_files(tiny_model, tmp_path: Path) -> dict[str, bytes]:
    out = tmp_path / "result"
    if not out.is_dir():
        write_artifact(out, tiny_model.artifact)
    files = {p.name: p.read_bytes() for p in out.iterdir()}
    return files | {"loss.png": b"\x89PNG\r\n\x1a\n fake"}


async def trained(bot: LSTMBot, guild, name: str, files: dict[str, bytes]) -> int:
    """Submit a job named ``name`` and finish it as a worker would; returns its id."""
    job, _ = await bot.jobs.submit(
        guild_id=guild.id,
        channel_id=guild.default_channel.id,
        user_id=1,
        model_name=name,
        corpus=f"the upload of {name} ".encode() * 100,
        params={"effort": "quick"},
    )
    queue = bot.jobs
    if isinstance(queue, SqliteQueue):
        lease = await queue.claim("w")
    else:
        assert isinstance(queue, PostgresQueue)
        lease = await queue.start(job.id, "w")
    assert lease is not None and lease.job_id == job.id
    await queue.complete(lease, files, {"card": {}})
    bot.get_cog("Training").reporter.poke()
    await wait_for(lambda: _imported(bot, guild.id, name), 15, f"'{name}' to be imported")
    return job.id


async def _imported(bot: LSTMBot, guild_id: int, name: str) -> bool:
    return await bot.registry.get(guild_id, name) is not None


async def test_moving_to_postgres_loses_and_deletes_nothing(
    settings, builtin_dir, pg_url, tiny_model, tmp_path
):
    settings = settings.replace(keep_corpora=True, poll_seconds=0.2)
    files = result_files(tiny_model, tmp_path)
    async with FakeDiscord(quiet_period=0.05) as fake:
        guild = fake.add_guild("Guild A")
        embedded = LSTMBot(settings, sync_commands=True, builtin_root=builtin_dir)
        async with running_bot(fake, embedded) as bot:
            old = await trained(bot, guild, "oldstyle", files)
            kept = await trained(bot, guild, "keeper", files)
        assert (old, kept) == (1, 2)

        moved = settings.replace(queue_url=pg_url)
        async with running_bot(fake, LSTMBot(moved, builtin_root=builtin_dir)) as bot:
            # The first job of the new queue has id 1 too: its result is imported all the same.
            assert await trained(bot, guild, "newstyle", files) == 1
            new = await bot.registry.get(guild.id, "newstyle")
            old_model = await bot.registry.get(guild.id, "oldstyle")
            assert new is not None and old_model is not None and new.id != old_model.id
            assert await bot.registry.get(guild.id, "keeper") is not None
            # Deleting the old model touches nothing of the new queue's job 1.
            await bot.get_cog("Models").deletion.delete(old_model)
            assert not (await bot.jobs.get(1)).corpus_deleted
            assert set(await bot.jobs.files(1, "corpus")) == {"corpus.txt"}
            assert await bot.registry.get(guild.id, "newstyle") == new
            # Deleting the new model removes its own upload.
            await bot.get_cog("Models").deletion.delete(new)
            assert (await bot.jobs.get(1)).corpus_deleted
        fake.assert_no_violations()

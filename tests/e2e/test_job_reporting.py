"""Job reports through the fake Discord: one unreachable channel holds up no other job."""

from __future__ import annotations

import logging
import sys

import pytest

from bot.transfer import plot_path
from jobs.reasons import Reason
from model_store.artifact import write_artifact

from ..jobs.procs import wait_for


@pytest.fixture
def fast_reporter(env, monkeypatch):
    # The module the running bot loaded: discord.py drops an extension's modules from
    # sys.modules when a bot closes, so an earlier test's bot leaves a stale one behind.
    job_reporter = sys.modules["cogs.training.job_reporter"]
    monkeypatch.setattr(job_reporter, "EDIT_INTERVAL", 0.0)
    monkeypatch.setattr(job_reporter, "BACKOFF_SECONDS", 0.1)
    monkeypatch.setattr(job_reporter, "GIVE_UP_SECONDS", 1.0)


async def submit(env, name: str, channel_id: int | None = None):
    """A job of alice's in guild A (its general channel unless told)."""
    job, _ = await env.bot.jobs.submit(
        guild_id=env.guild_a.id,
        channel_id=channel_id or env.guild_a.default_channel.id,
        user_id=env.alice.id,
        model_name=name,
        corpus=b"some text " * 300,
        params={"effort": "quick"},
    )
    return job


async def test_a_deleted_channel_holds_up_no_other_job(env, fast_reporter, caplog):
    caplog.set_level(logging.INFO, logger="cogs.training.job_reporter")
    queue, general = env.bot.jobs, env.guild_a.default_channel
    doomed = env.fake.add_channel(env.guild_a, "doomed")
    lost = await submit(env, "lost", doomed.id)
    shown = await submit(env, "shown")
    env.fake.delete_channel(doomed)
    # A worker fails the first job (so it has a final event to report) and starts the second.
    lease = await queue.claim("w")
    assert lease.job_id == lost.id
    detail = "the uploaded text is too short to learn from"
    await queue.fail(lease, Reason("bad_text", {"detail": detail}), retryable=False)
    lease = await queue.claim("w")
    await queue.add_event(lease, "started", {"resumed_from_epoch": 0, "device": "CPU"})
    env.bot.get_cog("Training").reporter.poke()

    # The second job's progress message appears although the first job's channel is gone.
    await env.fake.wait_for_message(
        general,
        lambda m: bool(m.embeds) and "Training `shown`" in m.embeds[0]["title"],
        timeout=10,
    )

    async def given_up() -> bool:
        return (await queue.get(lost.id)).report_failed_at is not None

    await wait_for(given_up, 15, "the reporter to give the unreachable job up")
    assert [j.id for j in await queue.jobs_to_report()] == [shown.id]
    messages = [r.getMessage() for r in caplog.records if r.name == "cogs.training.job_reporter"]
    assert sum("refuses the bot's messages" in m for m in messages) == 1, messages
    assert sum("gave up reporting" in m for m in messages) == 1, messages
    assert not any(r.exc_info for r in caplog.records if r.name == "cogs.training.job_reporter")

    # Its owner still sees how it ended.
    status = await env.fake.invoke(env.guild_a, env.alice, "job status", {"id": lost.id})
    await status.wait_done(timeout=10)
    assert f"#{lost.id} `lost` · failed" in status.content
    assert "too short to learn from" in status.content


async def test_a_job_that_ends_while_the_reporter_looks_is_shown_ended(env, fast_reporter):
    queue, general = env.bot.jobs, env.guild_a.default_channel
    job = await submit(env, "racer")
    lease = await queue.claim("w")
    await queue.add_event(lease, "started", {"resumed_from_epoch": 0, "device": "CPU"})
    await queue.request_cancel(job.id)
    env.bot.get_cog("Training").reporter.poke()
    await env.fake.wait_for_message(
        general, lambda m: bool(m.embeds) and "racer" in m.embeds[0]["title"], timeout=10
    )
    listed = queue.jobs_to_report
    armed = [True]

    async def worker_finishes_meanwhile(limit: int = 100, servers=None):
        jobs = await listed(limit, servers)  # the reporter has the job as running ...
        if armed:
            armed.clear()
            await queue.finish_cancelled(lease)  # ... when the worker stops it
        return jobs

    queue.jobs_to_report = worker_finishes_meanwhile
    env.bot.get_cog("Training").reporter.poke()
    await env.fake.wait_for_message(
        general,
        lambda m: bool(m.embeds) and m.embeds[0].get("description") == "Cancelled.",
        timeout=10,
    )


async def test_a_loss_plot_is_deleted_once_its_result_is_posted(
    env, fast_reporter, tiny_model, tmp_path
):
    queue, general = env.bot.jobs, env.guild_a.default_channel
    reporter = env.bot.get_cog("Training").reporter
    job = await submit(env, "plotted")
    write_artifact(tmp_path / "result", tiny_model.artifact)
    files = {p.name: p.read_bytes() for p in (tmp_path / "result").iterdir()}
    lease = await queue.claim("w")
    await queue.complete(lease, files | {"loss.png": b"\x89PNG\r\n\x1a\n fake"}, {"card": {}})
    reporter.poke()
    result = await env.fake.wait_for_message(
        general,
        lambda m: bool(m.attachments) and m.attachments[0].filename == "loss.png",
        timeout=15,
    )
    assert result.attachments[0].data.startswith(b"\x89PNG")
    plot = plot_path(reporter.data_dir, await queue.identity(), job.id)

    async def deleted() -> bool:
        return not plot.exists()

    await wait_for(deleted, 10, "the posted plot to be deleted")
    assert not any(plot.parent.iterdir())

"""Worker pieces in-process: params, user-readable failures, housekeeping."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.jobqueue import JobQueue
from bot.settings import Settings
from model_store.backend import CPU, GPU
from model_store.config import TrainConfig
from worker import janitor
from worker.params import EFFORTS, ParamsError, make_params, parse_params

from ..textgen import make_text


def test_params_overrides() -> None:
    plan = parse_params(
        {
            "effort": "thorough",
            "epochs": 3,
            "minutes": 2,
            "network": {"units": 16},
            "train": {"seq_len": 32},
            "corpus_name": "poems.txt",
        }
    )
    config = plan.sized(100_000, CPU)
    # epochs set by the job: that many passes (an epoch is one pass), and the job's cap
    assert (config.epochs, config.steps_per_epoch, config.minutes) == (3, None, 2)
    assert config.seq_len == 32
    assert plan.network.units == 16 and plan.corpus_name == "poems.txt"
    assert make_params("quick", epochs=4) == {"effort": "quick", "epochs": 4}
    for bad in (
        {"effort": "max"},
        {"epochs": 0},
        {"epochs": "5"},
        {"train": {"nope": 1}},
        {"network": []},
        {"minutes": -1},
    ):
        with pytest.raises(ParamsError):
            parse_params(bad)


def steps_and_passes(config: TrainConfig, chars: int) -> tuple[int, float]:
    steps = config.epochs * config.steps_per_epoch
    return steps, steps * config.batch_size * config.seq_len / (0.9 * chars)


def test_efforts_are_step_budgets_sized_to_the_text() -> None:
    # A 6,000-character upload gets many passes over short sequences, not one step an epoch.
    small = parse_params({"effort": "normal"}).sized(6000, CPU)
    steps, passes = steps_and_passes(small, 6000)
    assert small.seq_len < TrainConfig.seq_len and steps >= EFFORTS["normal"].min_steps
    assert passes >= 50 and small.epochs >= 5
    # A 5 MB upload is held to a step budget and a wall-clock cap (not hours on a CPU).
    big = parse_params({"effort": "normal"}).sized(5_000_000, CPU)
    steps, passes = steps_and_passes(big, 5_000_000)
    assert steps <= EFFORTS["normal"].max_steps and passes < 3
    assert big.minutes == EFFORTS["normal"].minutes and big.eval_chars
    # More effort, more steps.
    budgets = [
        steps_and_passes(parse_params({"effort": e}).sized(300_000, CPU), 300_000)[0]
        for e in ("quick", "normal", "thorough")
    ]
    assert budgets == sorted(budgets) and len(set(budgets)) == 3


def test_a_gpu_gets_bigger_steps_and_longer_epochs() -> None:
    cpu = parse_params({}).sized(400_000, CPU)
    gpu = parse_params({}).sized(400_000, GPU)
    assert gpu.batch_size > cpu.batch_size
    assert gpu.steps_per_epoch >= GPU.min_epoch_steps


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", min_corpus_chars=2000, lease_seconds=30)


async def run_one(queue: JobQueue, settings: Settings) -> None:
    from worker.runner import Worker  # imports TensorFlow

    worker = Worker(
        queue, settings, worker_id="t", device="CPU", poll_seconds=0.1, progress_seconds=0.1
    )
    lease = await queue.claim("t")
    assert lease is not None
    await worker.process(lease)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("missing", "the uploaded text is gone (it was removed before training)"),
        ("short", "the uploaded text is too short to learn from (1000 characters; at least 2000)"),
        ("base", "the base model 'ghost' no longer exists"),
    ],
)
async def test_failures_are_final_and_readable(
    queue: JobQueue, settings: Settings, case: str, reason: str
) -> None:
    corpus = settings.corpus_path / "c.txt"
    corpus.parent.mkdir(parents=True)
    corpus.write_text(make_text(1000 if case == "short" else 4000), encoding="utf-8")
    if case == "missing":
        corpus.unlink()
    job, _ = await queue.submit(
        guild_id=1,
        channel_id=2,
        user_id=3,
        model_name="x1",
        corpus_path=str(corpus),
        corpus_bytes=100,
        params={"effort": "quick"},
        base_model="ghost" if case == "base" else None,
    )
    await run_one(queue, settings)
    failed = await queue.get(job.id)
    assert (failed.status, failed.error, failed.attempts) == ("failed", reason, 1)
    events = await queue.events_after(job.id)
    assert events[-1].kind == "failed" and events[-1].payload["reason"] == reason
    assert not corpus.exists() and failed.corpus_deleted


async def test_a_diverging_run_fails_at_once_with_a_sentence(
    queue: JobQueue, settings: Settings
) -> None:
    from worker.training import DIVERGED

    corpus = settings.corpus_path / "c.txt"
    corpus.parent.mkdir(parents=True)
    corpus.write_text(make_text(4000), encoding="utf-8")
    job, _ = await queue.submit(
        guild_id=1,
        channel_id=2,
        user_id=3,
        model_name="nan1",
        corpus_path=str(corpus),
        corpus_bytes=100,
        params={
            "effort": "quick",
            "network": {"units": 16, "layers": 1, "embedding_dim": 8},
            "train": {"learning_rate": 1e38},
        },
    )
    await run_one(queue, settings)
    failed = await queue.get(job.id)
    assert (failed.status, failed.error, failed.attempts) == ("failed", DIVERGED, 1)
    assert "nan" not in failed.error.lower() and "Traceback" not in failed.error


async def test_janitor_sweeps_leftovers_only(queue: JobQueue, settings: Settings, db) -> None:
    active, _ = await queue.submit(
        guild_id=7,
        channel_id=2,
        user_id=3,
        model_name="a1",
        corpus_path="/elsewhere/a.txt",
        corpus_bytes=10,
        params={},
    )
    done, _ = await queue.submit(
        guild_id=7,
        channel_id=2,
        user_id=3,
        model_name="b1",
        corpus_path=str(settings.corpus_path / "b.txt"),
        corpus_bytes=10,
        params={},
    )
    await queue.request_cancel(done.id)
    settings.corpus_path.mkdir(parents=True)
    (settings.corpus_path / "b.txt").write_text("text")
    for job_id in (active.id, done.id):
        (settings.checkpoint_path / f"job-{job_id}").mkdir(parents=True)
    guild = settings.guild_model_path / "7"
    orphan, kept, fresh = (
        guild / "b1-j2-0123abcd",
        guild / "b1-j2-89abcdef",
        guild / "b1-j2-aaaabbbb",
    )
    for path in (orphan, kept, fresh):
        path.mkdir(parents=True)
    for path in (orphan, kept):
        os.utime(path, (1, 1))
    await db.execute(
        "INSERT INTO models (name, guild_id, card, path, created_at) VALUES ('b1', 7, '{}', ?, '')",
        (str(kept.resolve()),),
    )
    await janitor.sweep(queue, settings)
    assert (settings.checkpoint_path / f"job-{active.id}").exists()
    assert not (settings.checkpoint_path / f"job-{done.id}").exists()
    assert not (settings.corpus_path / "b.txt").exists()
    assert (await queue.get(done.id)).corpus_deleted
    assert await queue.corpus_bytes_for_guild(7) == 10
    assert not orphan.exists() and kept.exists() and fresh.exists()

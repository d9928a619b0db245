"""Real worker processes (``python -m worker``) on tiny models, on each engine (with
PostgreSQL every worker has a data directory of its own); the bot's side (import into the
registry) runs in the test.

Each worker imports TensorFlow (about 5 s), so these tests start as few as they can.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from bot.transfer import plot_path
from jobs.records import CHECKPOINT, CORPUS, RESULT
from model_store import load_artifact

from .procs import Env, params, wait_exit, wait_for


def model_dirs(data: Path, guild_id: int = 7) -> list[Path]:
    root = data / "guild-models" / str(guild_id)
    return sorted(p for p in root.iterdir()) if root.is_dir() else []


async def test_worker_trains_then_the_bot_imports_and_fine_tunes(
    tmp_path: Path, queue_url: str | None
) -> None:
    async with Env(tmp_path, queue_url) as env:
        first = await env.submit("poet", params(2))
        # a short job: no checkpoint is worth storing (at most one per 600 s of training here)
        proc = env.start_worker("w1", "--max-idle", "1", LSTM_BOT_CHECKPOINT_SECONDS="600")
        assert await wait_exit(proc, 120) == 0, env.log("w1")

        job = await env.job(first.id)
        assert job.status == "succeeded" and job.model_id is None, (job.error, env.log("w1"))
        assert job.checkpoint_epoch == 0  # nothing stored before the result
        assert model_dirs(env.data) == []  # the worker publishes nothing itself
        (record,) = await env.import_results()
        assert (record.name, record.guild_id, record.owner_id) == ("poet", 7, 9)
        assert record.job_id == first.id and (await env.job(first.id)).model_id == record.id
        artifact = load_artifact(Path(record.path))
        assert artifact.name == "poet" and record.card["training"]["epochs_run"] == 2
        assert Path(record.path).parent == (env.data / "guild-models" / "7").resolve()
        plot = plot_path(env.data, await env.queue.identity(), first.id)
        assert plot.read_bytes()[:4] == b"\x89PNG"
        assert await env.queue.files(first.id, RESULT) == {}  # dropped once imported
        assert await env.import_results() == []  # a second pass changes nothing

        events = await env.events(first.id)
        kinds = [k for k, _ in events]
        assert kinds[0] == "started" and kinds[-1] == "succeeded"
        assert kinds.count("epoch") == 2 and "progress" in kinds
        started = events[0][1]
        assert started["resumed_from_epoch"] == 0 and started["device"]
        assert started["epochs"] == 2 and started["worker"] == "w1"
        epoch = next(p for k, p in events if k == "epoch")
        assert {"loss", "heldout_loss", "sample", "seconds"} <= set(epoch)
        progress = next(p for k, p in events if k == "progress")
        assert {"step", "steps", "loss", "chars_per_sec", "eta_seconds"} <= set(progress)
        done = events[-1][1]
        assert done["card"]["name"] == "poet" and done["sample"]

        # Fine-tuning the server's own model: its files travel with the job.
        tuned = await env.submit("poet2", params(1), base=record)
        proc = env.start_worker("w2", "--max-idle", "1")
        assert await wait_exit(proc, 120) == 0, env.log("w2")
        ft = await env.job(tuned.id)
        assert ft.status == "succeeded", (ft.error, env.log("w2"))
        (ft_record,) = await env.import_results()
        assert ft_record.base == "poet" and ft_record.card["base_model"] == "poet"

        # Files: two published models; the workers' scratch folders and the inputs are gone.
        assert len(model_dirs(env.data)) == 2
        for worker in ("w1", "w2"):
            assert not any((env.worker_data(worker) / "scratch").glob("job-*"))
        assert await env.queue.files(tuned.id, CHECKPOINT) == {}


async def test_cancel_stops_a_running_job_within_seconds(
    tmp_path: Path, queue_url: str | None
) -> None:
    async with Env(tmp_path, queue_url) as env:
        job = await env.submit("slow", params(50, slow=True), chars=24000)
        proc = env.start_worker("w1", "--once")

        async def progressing() -> bool:
            return any(k == "progress" for k, _ in await env.events(job.id))

        await wait_for(progressing, 60, "training progress")
        state = await env.queue.request_cancel(job.id)
        assert state.status == "running" and state.cancel_requested

        async def cancelled() -> bool:
            return (await env.job(job.id)).status == "cancelled"

        await wait_for(cancelled, 10, "the cancellation")  # within seconds: a bounded wait
        assert await wait_exit(proc, 20) == 0
        assert (await env.events(job.id))[-1] == (
            "cancelled",
            {"reason": "cancelled", "during": "running"},
        )
        assert await env.import_results() == []
        assert not (env.worker_data("w1") / "scratch" / f"job-{job.id}").exists()
        assert await env.queue.files(job.id, CHECKPOINT) == {}


async def test_killed_worker_job_resumes_from_its_stored_checkpoint(
    tmp_path: Path, queue_url: str | None
) -> None:
    lease = {"LSTM_BOT_LEASE_SECONDS": "4", "LSTM_BOT_MAX_ATTEMPTS": "5"}
    async with Env(tmp_path, queue_url, **lease) as env:
        job = await env.submit("phoenix", params(4, slow=True), chars=24000)
        first = env.start_worker("w1", "--once")

        async def mid_epoch_after_a_checkpoint() -> bool:
            stored = (await env.job(job.id)).checkpoint_epoch
            events = await env.events(job.id)
            later = [p for k, p in events if k == "progress" and p["epoch"] > stored]
            return stored >= 1 and bool(later)

        await wait_for(mid_epoch_after_a_checkpoint, 90, "a checkpoint, then the next epoch")
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        stored = (await env.job(job.id)).checkpoint_epoch
        state = json.loads((await env.queue.files(job.id, CHECKPOINT))["state.json"])
        assert state["epoch"] == stored >= 1

        second = env.start_worker("w2", "--once")
        assert await wait_exit(second, 120) == 0, env.log("w2")
        done = await env.job(job.id)
        assert done.status == "succeeded", (done.error, env.log("w2"))
        events = await env.events(job.id)
        starts = [p for k, p in events if k == "started"]
        assert [s["worker"] for s in starts] == ["w1", "w2"]
        assert starts[1]["resumed_from_epoch"] == stored
        assert any(k == "retry" and "stopped responding" in p["reason"] for k, p in events)
        # Exactly one model: one row and one complete directory, nothing half-published.
        (record,) = await env.import_results()
        assert [p.resolve() for p in model_dirs(env.data)] == [Path(record.path)]
        assert load_artifact(Path(record.path)).card["training"]["epochs_run"] == 4


async def test_two_workers_run_each_job_exactly_once(tmp_path: Path, queue_url: str | None) -> None:
    async with Env(tmp_path, queue_url) as env:
        # A long job keeps whichever worker claims it busy, so the other one must train the
        # rest: both workers train (deterministically), and each job runs exactly once.
        busy = await env.submit("busy", params(50, slow=True), chars=24000)
        jobs = [await env.submit(f"style-{n}", params(1), chars=3000) for n in range(2)]
        workers = [env.start_worker(f"w{n}", "--max-idle", "2") for n in (1, 2)]

        async def quick_ones_done() -> bool:
            return all([(await env.job(j.id)).status == "succeeded" for j in jobs])

        await wait_for(quick_ones_done, 150, "the quick jobs")
        await env.queue.request_cancel(busy.id)
        for n, proc in enumerate(workers, 1):
            assert await wait_exit(proc, 60) == 0, env.log(f"w{n}")
        trained_by = {}
        for job in [busy, *jobs]:
            events = await env.events(job.id)
            (trained_by[job.id],) = [p["worker"] for k, p in events if k == "started"]
        assert set(trained_by.values()) == {"w1", "w2"}, trained_by
        for job in jobs:
            done = await env.job(job.id)
            assert done.status == "succeeded" and done.attempts == 1, done.error
            kinds = [k for k, _ in await env.events(job.id)]
            assert kinds.count("started") == 1 and kinds.count("succeeded") == 1
        assert (await env.job(busy.id)).status == "cancelled"
        records = await env.import_results()
        assert sorted(r.name for r in records) == [f"style-{n}" for n in range(2)]
        assert len(model_dirs(env.data)) == 2


async def test_sigterm_releases_the_job_after_the_epoch_checkpoint(
    tmp_path: Path, queue_url: str | None
) -> None:
    async with Env(tmp_path, queue_url) as env:
        job = await env.submit("paused", params(50, slow=True), chars=24000)
        proc = env.start_worker("w1", "--once", LSTM_BOT_CHECKPOINT_SECONDS="3600")  # not due

        async def in_first_epoch() -> bool:
            return any(k == "progress" for k, _ in await env.events(job.id))

        await wait_for(in_first_epoch, 60, "training progress")
        proc.send_signal(signal.SIGTERM)
        assert await wait_exit(proc, 30) == 0, env.log("w1")
        released = await env.job(job.id)
        assert released.status == "queued" and released.attempts == 0
        events = await env.events(job.id)
        assert events[-1][0] == "released"
        last_epoch = max(p["epoch"] for k, p in events if k == "epoch")
        assert released.checkpoint_epoch == last_epoch
        state = json.loads((await env.queue.files(job.id, CHECKPOINT))["state.json"])
        assert state["epoch"] == last_epoch
        assert await env.queue.files(job.id, CORPUS)  # kept for the resumed run

"""Real worker processes (``python -m worker``) on tiny models and a shared SQLite queue.

Each worker imports TensorFlow (about 5 s), so these tests start as few as they can.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from model_store import load_artifact

from .procs import Env, params, wait_exit, wait_for


def model_dirs(data: Path, guild_id: int = 7) -> list[Path]:
    root = data / "guild-models" / str(guild_id)
    return sorted(p for p in root.iterdir()) if root.is_dir() else []


async def test_worker_trains_publishes_and_fine_tunes(tmp_path: Path) -> None:
    async with Env(tmp_path) as env:
        first = await env.submit("poet", params(2))
        tuned = await env.submit("poet2", params(1), base="poet")  # the guild's new model
        proc = env.start_worker("w1", "--max-idle", "1")
        assert await wait_exit(proc, 120) == 0, env.log("w1")

        job = await env.job(first.id)
        assert job.status == "succeeded", (job.error, env.log("w1"))
        row = await env.db.fetchone("SELECT * FROM models WHERE id = ?", (job.model_id,))
        assert (row["name"], row["guild_id"], row["owner_id"]) == ("poet", 7, 9)
        artifact = load_artifact(Path(row["path"]))
        assert artifact.name == "poet" and json.loads(row["card"])["training"]["epochs_run"] == 2
        assert Path(row["path"]).parent == (env.data / "guild-models" / "7").resolve()

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
        assert done["model_id"] == job.model_id and done["card"]["name"] == "poet"
        assert done["sample"] and done["plot"] == job.plot_path
        assert Path(done["plot"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

        ft = await env.job(tuned.id)
        assert ft.status == "succeeded", ft.error
        ft_row = await env.db.fetchone("SELECT * FROM models WHERE id = ?", (ft.model_id,))
        assert ft_row["base"] == "poet"
        assert json.loads(ft_row["card"])["base_model"] == "poet"

        # Files: two published models, nothing staged; corpora and checkpoints removed.
        assert len(model_dirs(env.data)) == 2
        assert list(env.corpora.iterdir()) == []
        assert not any((env.data / "checkpoints").glob("job-*"))
        assert (await env.job(first.id)).corpus_deleted


async def test_cancel_stops_a_running_job_within_seconds(tmp_path: Path) -> None:
    async with Env(tmp_path) as env:
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
        assert await env.db.fetchone("SELECT 1 FROM models") is None
        assert model_dirs(env.data) == []
        assert not (env.data / "checkpoints" / f"job-{job.id}").exists()
        assert list(env.corpora.iterdir()) == []


async def test_killed_worker_job_resumes_from_checkpoint(tmp_path: Path) -> None:
    async with Env(tmp_path, LSTM_BOT_LEASE_SECONDS="2", LSTM_BOT_MAX_ATTEMPTS="5") as env:
        job = await env.submit("phoenix", params(4, slow=True), chars=24000)
        first = env.start_worker("w1", "--once")

        async def mid_second_epoch() -> bool:
            events = await env.events(job.id)
            epochs = [p["epoch"] for k, p in events if k == "epoch"]
            later = [p for k, p in events if k == "progress" and p["epoch"] > max(epochs or [9])]
            return bool(epochs and later)

        await wait_for(mid_second_epoch, 90, "a checkpoint and progress in the next epoch")
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        state = json.loads((env.data / "checkpoints" / f"job-{job.id}" / "state.json").read_text())
        assert state["epoch"] >= 1

        second = env.start_worker("w2", "--once")
        assert await wait_exit(second, 120) == 0, env.log("w2")
        done = await env.job(job.id)
        assert done.status == "succeeded", (done.error, env.log("w2"))
        events = await env.events(job.id)
        starts = [p for k, p in events if k == "started"]
        assert [s["worker"] for s in starts] == ["w1", "w2"]
        assert starts[1]["resumed_from_epoch"] >= state["epoch"] >= 1
        assert any(k == "retry" and "stopped responding" in p["reason"] for k, p in events)
        # Exactly one model: the row and one complete directory, nothing half-published.
        rows = await env.db.fetchall("SELECT path FROM models")
        assert len(rows) == 1
        assert [p.resolve() for p in model_dirs(env.data)] == [Path(rows[0]["path"])]
        assert load_artifact(Path(rows[0]["path"])).card["training"]["epochs_run"] == 4


async def test_two_workers_run_each_job_exactly_once(tmp_path: Path) -> None:
    async with Env(tmp_path) as env:
        # A long job keeps whichever worker claims it busy, so the other one must train the
        # rest: both workers train (deterministically), and each job runs exactly once.
        busy = await env.submit("busy", params(50, slow=True), chars=24000)
        jobs = [await env.submit(f"style-{n}", params(1), chars=3000) for n in range(3)]
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
        rows = await env.db.fetchall("SELECT name FROM models ORDER BY name")
        assert [r["name"] for r in rows] == [f"style-{n}" for n in range(3)]
        assert len(model_dirs(env.data)) == 3


async def test_sigterm_releases_the_job_after_the_epoch_checkpoint(tmp_path: Path) -> None:
    async with Env(tmp_path) as env:
        job = await env.submit("paused", params(50, slow=True), chars=24000)
        proc = env.start_worker("w1", "--once")

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
        ckpt = env.data / "checkpoints" / f"job-{job.id}"
        assert json.loads((ckpt / "state.json").read_text())["epoch"] == last_epoch
        assert Path(released.corpus_path).exists()  # kept for the resumed run

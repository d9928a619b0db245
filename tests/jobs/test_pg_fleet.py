"""A fleet of real worker processes on PostgreSQL meeting what fleets meet: a worker paused
past its lease that comes back, workers started with different leases, the database stopped
and started again (a server of the test's own).

Each worker imports TensorFlow (seconds), so each test starts as few as it can.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from jobs.postgres import migrate

from ..pg_server import PgServer
from ..textgen import make_text
from .procs import Env, params, wait_exit, wait_for

pytestmark = pytest.mark.slow  # worker processes, PostgreSQL servers

STALE_TASK = "never retrieved"


async def starts(env: Env, job_id: int) -> list[str]:
    return [p["worker"] for k, p in await env.events(job_id) if k == "started"]


async def finished(env: Env, job_id: int) -> bool:
    return (await env.job(job_id)).status in ("succeeded", "failed", "cancelled")


async def run_quick_jobs(env: Env, names: list[str]) -> None:
    """Queue quick jobs and wait until every one succeeded (the fleet still takes work)."""
    jobs = [await env.submit(name, params(1), chars=3000) for name in names]

    async def all_done() -> bool:
        return all([await finished(env, j.id) for j in jobs])

    await wait_for(all_done, 180, "the quick jobs")
    for job in jobs:
        assert (await env.job(job.id)).status == "succeeded", (await env.job(job.id)).error


def assert_clean_logs(env: Env, *names: str) -> None:
    for name in names:
        log = env.log(name)
        assert STALE_TASK not in log and "ForeignKeyViolation" not in log, log[-3000:]


async def test_a_worker_paused_past_its_lease_takes_nothing_back(
    tmp_path: Path, pg_url: str
) -> None:
    lease = {"LSTM_BOT_LEASE_SECONDS": "4", "LSTM_BOT_MAX_ATTEMPTS": "2"}
    async with Env(tmp_path, pg_url, **lease) as env:
        job = await env.submit("sleeper", params(14, slow=True), chars=24000)
        procs = {name: env.start_worker(name) for name in ("w1", "w2")}

        async def progress_by(n: int) -> bool:
            events = await env.events(job.id)
            begun = [i for i, (k, _) in enumerate(events) if k == "started"]
            return len(begun) >= n and any(k == "progress" for k, _ in events[begun[-1] :])

        await wait_for(lambda: progress_by(1), 90, "training progress")
        (paused,) = await starts(env, job.id)
        healthy = "w2" if paused == "w1" else "w1"
        os.kill(procs[paused].pid, signal.SIGSTOP)  # a laptop lid, a VM migration
        try:
            await wait_for(lambda: progress_by(2), 60, "the takeover")
        finally:
            os.kill(procs[paused].pid, signal.SIGCONT)

        await wait_for(lambda: finished(env, job.id), 240, "the end of the job")
        done = await env.job(job.id)
        assert done.status == "succeeded", (done.error, env.log(healthy)[-3000:])
        assert done.attempts == 2 and await starts(env, job.id) == [paused, healthy]
        kinds = [k for k, _ in await env.events(job.id)]
        assert kinds.count("succeeded") == 1 and kinds[-1] == "succeeded"
        assert "lost its lease" in env.log(paused)  # it came back while the job ran
        assert all(proc.poll() is None for proc in procs.values())
        await run_quick_jobs(env, ["after-1", "after-2"])
        assert all(proc.poll() is None for proc in procs.values())
        assert_clean_logs(env, "w1", "w2")


async def test_workers_with_different_leases_leave_each_other_alone(
    tmp_path: Path, pg_url: str
) -> None:
    async with Env(tmp_path, pg_url) as env:
        job = await env.submit("steady", params(10, slow=True), chars=24000)
        slow = env.start_worker("slow", LSTM_BOT_LEASE_SECONDS="20")  # says alive every 5 s

        async def started() -> bool:
            return bool(await starts(env, job.id))

        await wait_for(started, 90, "the job's start")
        hasty = env.start_worker("hasty", LSTM_BOT_LEASE_SECONDS="1")  # looks every second

        await wait_for(lambda: finished(env, job.id), 240, "the end of the job")
        done = await env.job(job.id)
        assert done.status == "succeeded" and done.attempts == 1, done.error
        assert await starts(env, job.id) == ["slow"]
        assert "retry" not in [k for k, _ in await env.events(job.id)]
        await run_quick_jobs(env, ["next-1", "next-2", "next-3"])
        assert slow.poll() is None and hasty.poll() is None
        assert_clean_logs(env, "slow", "hasty")


@pytest.fixture
async def own_pg() -> AsyncIterator[PgServer]:
    """A PostgreSQL server of this test's own, migrated: the test stops and starts it."""
    server = PgServer()
    try:
        await migrate(server.start())
        yield server
    finally:
        server.stop()


# How long the database is down in the restart test: 7 s by default (longer than the 5 s after
# which a silent worker counts as dead), e.g. 30 for the outage (about a minute more).
OUTAGE_SECONDS = float(os.environ.get("LSTM_BOT_TEST_OUTAGE_SECONDS", "7"))


async def test_workers_outlive_a_database_restart(tmp_path: Path, own_pg: PgServer) -> None:
    """The database stopped while one worker trains and the other idles: both wait it out
    (backoff), the job ends once, both take the next jobs, and each exits 0 when told to."""
    epochs = max(8, round(OUTAGE_SECONDS))  # a couple of seconds each: training outlasts it
    async with Env(tmp_path, own_pg.url) as env:
        job = await env.submit("through", params(epochs, slow=True), chars=24000)
        procs = {name: env.start_worker(name) for name in ("w1", "w2")}  # one trains, one idles

        async def progressing() -> bool:
            return any(k == "progress" for k, _ in await env.events(job.id))

        await wait_for(progressing, 90, "training progress")
        own_pg.halt()
        try:
            await asyncio.sleep(OUTAGE_SECONDS)
            assert all(proc.poll() is None for proc in procs.values())  # nobody gave up
        finally:
            own_pg.resume()

        await wait_for(lambda: finished(env, job.id), 240 + 10 * epochs, "the end of the job")
        done = await env.job(job.id)
        assert done.status == "succeeded", (done.error, env.log("w1")[-3000:])
        assert done.attempts == 1 and len(await starts(env, job.id)) == 1  # kept its job
        await run_quick_jobs(env, ["after-1", "after-2", "after-3"])
        assert all(proc.poll() is None for proc in procs.values())
        assert_clean_logs(env, "w1", "w2")
        for name, proc in procs.items():
            proc.send_signal(signal.SIGTERM)
            assert await wait_exit(proc, 60) == 0, env.log(name)[-3000:]


async def test_a_busy_survivor_puts_a_dead_workers_job_back_first_in_line(
    tmp_path: Path, pg_url: str
) -> None:
    lease = {"LSTM_BOT_LEASE_SECONDS": "4", "LSTM_BOT_MAX_ATTEMPTS": "5"}
    async with Env(tmp_path, pg_url, **lease) as env:
        jobs = [await env.submit(f"long-{n}", params(40, slow=True), chars=24000) for n in (1, 2)]
        procs = {name: env.start_worker(name) for name in ("w1", "w2")}

        async def both_started() -> bool:
            return all([await starts(env, j.id) for j in jobs])

        await wait_for(both_started, 90, "both jobs' start")
        later = await env.submit("later", params(1), chars=3000)  # queued behind both
        (victim,) = await starts(env, jobs[1].id)
        survivor_job = jobs[0]
        os.kill(procs[victim].pid, signal.SIGKILL)
        procs[victim].wait()

        async def put_back() -> bool:
            row = await env.queue.store.one(
                "SELECT status FROM procrastinate_jobs WHERE id = ?", (jobs[1].task_id,)
            )
            return row is not None and row["status"] == "todo"  # the survivor is busy

        await wait_for(put_back, 30, "the dead worker's job back in the queue")
        assert (await env.job(survivor_job.id)).status == "running"  # noticed while busy
        await env.queue.request_cancel(survivor_job.id)

        async def restarted() -> bool:
            return len(await starts(env, jobs[1].id)) == 2

        await wait_for(restarted, 90, "the taken-over job's second start")
        await env.queue.request_cancel(jobs[1].id)
        await wait_for(lambda: finished(env, later.id), 120, "the later job")
        events = {
            j.id: [e.id for e in await env.queue.events_after(j.id, 0, 1000) if e.kind == "started"]
            for j in (jobs[1], later)
        }
        assert events[jobs[1].id][-1] < events[later.id][0]  # the older job went first


async def test_a_cancel_while_a_big_upload_is_fetched_or_prepared_stops_it(
    tmp_path: Path, pg_url: str
) -> None:
    async with Env(tmp_path, pg_url) as env:
        big = await env.submit("big", params(1), text=make_text(4_000_000, seed=5))
        worker = env.start_worker("w1")

        async def taken() -> bool:
            return (await env.job(big.id)).status == "running"

        await wait_for(taken, 120, "the worker to take the big job", interval=0.02)
        await env.queue.request_cancel(big.id)
        await wait_for(lambda: finished(env, big.id), 60, "the cancel")
        assert (await env.job(big.id)).status == "cancelled", env.log("w1")[-3000:]
        kinds = [k for k, _ in await env.events(big.id)]
        assert "started" not in kinds  # stopped while fetching or preparing: nothing trained
        await run_quick_jobs(env, ["next"])  # the worker takes the next job
        assert worker.poll() is None
        assert_clean_logs(env, "w1")

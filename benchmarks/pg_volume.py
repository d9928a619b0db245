"""What training jobs cost a PostgreSQL queue, and how fast a fleet of workers reacts.

    .venv/bin/python benchmarks/pg_volume.py                 # a throwaway server, ~5 minutes
    .venv/bin/python benchmarks/pg_volume.py --lease 10      # faster takeovers, same shape
    .venv/bin/python benchmarks/pg_volume.py --pg-url postgresql://...  # a server of yours
    .venv/bin/python benchmarks/pg_volume.py --parts upload            # one measurement

Real worker processes (``python -m worker``, each with a data directory of its own) on a
fresh database; the benchmark plays the bot's part (submits, cancels, reads the tables).
By default the server is the tests' throwaway one (``tests/pg_server.py``), so the WAL
figures are the server's alone.

- **quick job**: a 20 kB upload, effort quick: WAL bytes written while it ran
  (``pg_current_wal_lsn``) and the largest size of ``job_blobs`` (table, TOAST and indexes).
- **largest upload** (``--upload-mb``, 5 MB: the bot's default limit): cancel latency when the
  cancel comes as soon as the worker has started the job (it is then fetching the upload or
  preparing it), or ``--cancel-after`` seconds later (one job for each), and the worker's peak
  resident memory (``VmHWM``).
- **takeover**: a worker killed (``kill -9``) while training; time until the other worker
  starts the job when idle, and until the job is back in the queue when the other worker is
  busy with a job of its own (``--lease``, default 60 s as in production).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from jobs.postgres import PostgresQueue, migrate  # noqa: E402
from tests.pg_server import PgServer  # noqa: E402
from tests.textgen import make_text  # noqa: E402
from worker.process import clean_env, start_worker  # noqa: E402


class Fleet:
    def __init__(self, url: str, lease: float, root: Path):
        self.url, self.lease, self.root = url, lease, root
        self.procs: dict[str, subprocess.Popen] = {}
        self.queue: PostgresQueue
        self.n = 0

    def start(self, name: str) -> subprocess.Popen:
        env = clean_env()
        env.update(
            PYTHONPATH=str(ROOT),
            LSTM_BOT_QUEUE_URL=self.url,
            LSTM_BOT_DATA_DIR=str(self.root / name),
            LSTM_BOT_LEASE_SECONDS=str(self.lease),
            LSTM_BOT_POLL_SECONDS="0.5",
            TF_CPP_MIN_LOG_LEVEL="2",
            TF_NUM_INTRAOP_THREADS="1",
            TF_NUM_INTEROP_THREADS="1",
        )
        proc = start_worker(env, self.root / f"{name}.log", "--worker-id", name, cwd=ROOT)
        self.procs[name] = proc
        return proc

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    async def submit(self, name: str, chars: int, effort: str) -> int:
        self.n += 1
        job, _ = await self.queue.submit(
            guild_id=1,
            channel_id=2,
            user_id=3,
            model_name=name,
            corpus=make_text(chars, seed=self.n).encode(),
            params={"effort": effort},
        )
        return job.id

    async def status(self, job_id: int) -> str:
        job = await self.queue.get(job_id)
        assert job is not None
        return job.status

    async def starts(self, job_id: int) -> list[str]:
        events = await self.queue.events_after(job_id, 0, 1000)
        return [e.payload["worker"] for e in events if e.kind == "started"]

    async def scalar(self, sql: str, params: tuple = ()) -> int:
        row = await self.queue.store.one(sql, params)
        return int(next(iter(row.values())))


async def until(check, timeout: float, what: str, interval: float = 0.05) -> float:
    """Seconds until ``check()`` is true."""
    began = time.monotonic()
    while not await check():
        if time.monotonic() - began > timeout:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(interval)
    return time.monotonic() - began


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


BLOBS_SIZE = "SELECT pg_total_relation_size('job_blobs') AS n"
WAL_NOW = "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint AS n"


async def quick_job(fleet: Fleet) -> None:
    wal0 = await fleet.scalar(WAL_NOW)
    job = await fleet.submit("quick", 20_000, "quick")
    biggest = 0

    async def done() -> bool:
        nonlocal biggest
        biggest = max(biggest, await fleet.scalar(BLOBS_SIZE))
        return await fleet.status(job) in ("succeeded", "failed", "cancelled")

    seconds = await until(done, 600, "the quick job", interval=0.2)
    wal = await fleet.scalar(WAL_NOW) - wal0
    checkpoints = (await fleet.queue.get(job)).checkpoint_epoch
    print(
        f"quick job (20 kB, effort quick): {await fleet.status(job)} in {seconds:.1f} s;"
        f" WAL {wal / 1e6:.1f} MB; job_blobs at most {biggest / 1e6:.2f} MB;"
        f" last stored checkpoint after epoch {checkpoints}"
    )


async def largest_upload(fleet: Fleet, megabytes: float, delays: list[float]) -> None:
    """Cancel the big job ``delay`` seconds after the worker took it (fetching, decoding,
    encoding, building or the first step), once per delay, each a job of its own."""
    for delay in delays:
        latency, when = await _cancel_big(fleet, megabytes, delay)
        print(
            f"largest upload ({megabytes:g} MB): cancelled {delay:g} s after the worker took it"
            f" ({when}): stopped {latency:.1f} s later"
        )
    rss = vm_hwm_mb(fleet.procs["w1"].pid)
    print(f"largest upload ({megabytes:g} MB): worker peak RSS {rss:.0f} MB")


async def _cancel_big(fleet: Fleet, megabytes: float, delay: float) -> tuple[float, str]:
    job = await fleet.submit(f"big-{fleet.n}", int(megabytes * 1e6), "normal")

    async def running() -> bool:
        return await fleet.status(job) == "running"

    await until(running, 600, "the big job's start", interval=0.02)
    await asyncio.sleep(delay)
    cancelled_at = time.monotonic()
    await fleet.queue.request_cancel(job)

    async def cancelled() -> bool:
        return await fleet.status(job) == "cancelled"

    await until(cancelled, 300, "the cancel")
    latency = time.monotonic() - cancelled_at
    kinds = [e.kind for e in await fleet.queue.events_after(job, 0, 1000)]
    return latency, "training" if "started" in kinds else "fetching or preparing"


async def takeover(fleet: Fleet, *, busy: bool) -> None:
    """Two workers; kill the one training ``victim``; the survivor idle or busy."""
    names = ["t1", "t2"] if not busy else ["b1", "b2"]
    for name in names:
        fleet.start(name)
    victim_job = await fleet.submit(f"victim-{'busy' if busy else 'idle'}", 200_000, "thorough")
    await until(lambda: _started(fleet, victim_job), 600, "the victim job's start")
    other_job = None
    if busy:
        other_job = await fleet.submit("other", 200_000, "thorough")
        await until(lambda: _started(fleet, other_job), 600, "the survivor's own job")
    (victim,) = await fleet.starts(victim_job)
    await asyncio.sleep(2)
    killed = time.monotonic()
    os.kill(fleet.procs[victim].pid, signal.SIGKILL)
    fleet.procs[victim].wait()
    task = (await fleet.queue.get(victim_job)).task_id
    if busy:

        async def put_back() -> bool:
            todo = "SELECT count(*) AS n FROM procrastinate_jobs WHERE id = ? AND status = 'todo'"
            return bool(await fleet.scalar(todo, (task,)))

        await until(put_back, 600, "the job back in the queue")
        what = "busy survivor: the job back in the queue"
    else:

        async def restarted() -> bool:
            return len(await fleet.starts(victim_job)) == 2

        await until(restarted, 600, "the takeover")
        what = "idle survivor: the job started again"
    seconds = time.monotonic() - killed
    print(f"takeover, lease {fleet.lease:g} s, {what} {seconds:.1f} s after kill -9")
    for job in (victim_job, other_job):
        if job is not None:
            await fleet.queue.request_cancel(job)
    for name in names:
        if fleet.procs[name].poll() is None:
            fleet.procs[name].send_signal(signal.SIGTERM)


async def _started(fleet: Fleet, job_id: int) -> bool:
    return bool(await fleet.starts(job_id))


async def main(args: argparse.Namespace) -> None:
    server = None
    base = args.pg_url
    if base is None:
        server = PgServer()
        base = server.start()
    name = f"lstm_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = base.rsplit("/", 1)[0] + "/" + name
    fleet = Fleet(url, args.lease, Path(tempfile.mkdtemp(prefix="pg-volume-")))
    try:
        await migrate(url)
        fleet.queue = await PostgresQueue.connect(url)
        parts = set(args.parts.split(","))
        if parts & {"quick", "upload"}:
            fleet.start("w1")
        if "quick" in parts:
            await quick_job(fleet)
        if "upload" in parts:
            delays = [float(d) for d in args.cancel_after.split(",")]
            await largest_upload(fleet, args.upload_mb, delays)
        fleet.stop()
        if "takeover" in parts:
            await takeover(fleet, busy=False)
            await takeover(fleet, busy=True)
    finally:
        fleet.stop()
        if getattr(fleet, "queue", None) is not None:
            await fleet.queue.close()
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if server is not None:
            server.stop()
    print(f"worker logs: {fleet.root}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", help="a PostgreSQL server (default: a throwaway one)")
    parser.add_argument("--lease", type=float, default=60.0, help="LSTM_BOT_LEASE_SECONDS")
    parser.add_argument("--upload-mb", type=float, default=5.0, help="the largest upload")
    parser.add_argument(
        "--cancel-after",
        default="0",
        help="seconds after the start to cancel the big job (comma-separated: one job each)",
    )
    parser.add_argument(
        "--parts", default="quick,upload,takeover", help="which measurements (comma-separated)"
    )
    asyncio.run(main(parser.parse_args()))

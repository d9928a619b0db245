"""What training jobs cost a PostgreSQL queue, and how fast a fleet of workers reacts.

    .venv/bin/python benchmarks/pg_volume.py                 # a throwaway server, ~5 minutes
    .venv/bin/python benchmarks/pg_volume.py --lease 10      # faster takeovers, same shape
    .venv/bin/python benchmarks/pg_volume.py --pg-url postgresql://...  # a server of yours
    .venv/bin/python benchmarks/pg_volume.py --parts upload            # one measurement
    .venv/bin/python benchmarks/pg_volume.py --parts bigblob --blob-mb 300
    .venv/bin/python benchmarks/pg_volume.py --parts jobs --jobs 50 --job-minutes 1

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
- **bigblob** (``--blob-mb``, 300 MB): a synthetic checkpoint (random bytes) stored into the
  queue and loaded back, each by a child process that imports what a worker does and uses the
  worker's own functions; its resident memory before and at peak (``VmHWM``).
- **jobs** (``--jobs 50``): that many quick 20 kB jobs on two workers (``--job-minutes``
  caps each, ``--checkpoint-seconds`` is the workers' ``LSTM_BOT_CHECKPOINT_SECONDS``), each
  result taken and upload deleted as the bot would: WAL in all and a job, and the size of the
  blob tables at most, after the last job and after a ``VACUUM``.
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

    def start(self, name: str, **extra: str) -> subprocess.Popen:
        env = clean_env()
        env.update(**extra)
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

    async def submit(self, name: str, chars: int, effort: str, **params: object) -> int:
        self.n += 1
        job, _ = await self.queue.submit(
            guild_id=1,
            channel_id=2,
            user_id=3,
            model_name=name,
            corpus=make_text(chars, seed=self.n).encode(),
            params={"effort": effort, **params},
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


BLOBS_SIZE = (  # the parts table too (older versions have none)
    "SELECT pg_total_relation_size('job_blobs')"
    " + COALESCE(pg_total_relation_size(to_regclass('job_blob_parts')), 0) AS n"
)
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


async def many_jobs(fleet: Fleet, count: int, minutes: float | None, checkpoint: float) -> None:
    """``count`` quick 20 kB jobs on two workers, the benchmark playing the bot: as each job
    succeeds its result is taken (the files dropped, as after an import) and its upload
    deleted. WAL written and the size of the blob tables: at most, and after the last job."""
    every = {"LSTM_BOT_CHECKPOINT_SECONDS": str(checkpoint)}
    for name in ("m1", "m2"):
        fleet.start(name, **every)
    wal0, began = await fleet.scalar(WAL_NOW), time.monotonic()
    extra = {} if minutes is None else {"minutes": minutes}
    jobs = [await fleet.submit(f"many-{i}", 20_000, "quick", **extra) for i in range(count)]
    ended: dict[int, str] = {}
    biggest = 0

    async def all_ended() -> bool:
        nonlocal biggest
        biggest = max(biggest, await fleet.scalar(BLOBS_SIZE))
        for job in set(jobs) - set(ended):
            status = await fleet.status(job)
            if status in ("succeeded", "failed", "cancelled"):
                ended[job] = status
                if status == "succeeded":
                    await fleet.queue.mark_imported(job, 0)  # the bot took the result
                await fleet.queue.delete_corpus(job)
        return len(ended) == count

    await until(all_ended, 600 * count, f"{count} jobs", interval=0.5)
    wal = await fleet.scalar(WAL_NOW) - wal0
    after = await fleet.scalar(BLOBS_SIZE)
    statuses = {s: list(ended.values()).count(s) for s in set(ended.values())}
    checkpoints = sum([(await fleet.queue.get(j)).checkpoint_epoch > 0 for j in jobs])
    print(
        f"{count} quick jobs (20 kB, {minutes or 'the effort'}'s minutes, checkpoints every"
        f" {checkpoint:g} s of training) on 2 workers: {statuses} in"
        f" {time.monotonic() - began:.0f} s, {checkpoints} stored a checkpoint; WAL"
        f" {wal / 1e6:.1f} MB ({wal / count / 1e6:.1f} MB a job); job_blobs + job_blob_parts"
        f" at most {biggest / 1e6:.1f} MB, {after / 1e6:.1f} MB after the last job"
    )
    with psycopg.connect(fleet.url, autocommit=True) as conn:
        conn.execute("VACUUM job_blobs")
        if conn.execute("SELECT to_regclass('job_blob_parts')").fetchone()[0] is not None:
            conn.execute("VACUUM job_blob_parts")
    vacuumed = await fleet.scalar(BLOBS_SIZE)
    print(f"{count} quick jobs: the blob tables {vacuumed / 1e6:.1f} MB after VACUUM")
    for name in ("m1", "m2"):
        fleet.procs[name].send_signal(signal.SIGTERM)


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


# ---- a 300 MB checkpoint blob, stored and loaded by a process that imports what a worker does


def _child_bigblob(args: argparse.Namespace) -> None:
    """Store (or load) the big checkpoint as the worker does; print RSS before and at peak."""
    from jobs.records import CHECKPOINT, Lease
    from worker import inputs

    async def run() -> None:
        queue = await PostgresQueue.connect(args.pg_url)
        lease = Lease(args.job, args.token, "bench", 1, time.time() + 3600)
        before = vm_rss_mb(os.getpid())
        folder = Path(args.folder)
        try:
            if args.child == "store":  # the worker's own snapshot: files, or their bytes (older)
                if hasattr(inputs, "snapshot_checkpoint"):
                    epoch, files = inputs.snapshot_checkpoint(folder, folder / "outbox")
                else:
                    epoch, files = inputs.read_checkpoint(folder)
                await queue.save_checkpoint(lease, epoch, files)
            else:
                await queue.download(args.job, CHECKPOINT, folder / "loaded")
        finally:
            await queue.close()
        print(f"{before:.0f} {vm_hwm_mb(os.getpid()):.0f}")

    asyncio.run(run())


def vm_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def big_blob(fleet: Fleet, megabytes: float) -> None:
    """A synthetic checkpoint of ``megabytes`` (random bytes: nothing compresses), stored
    into the queue and loaded back by a child process each; their resident memory."""
    job = await fleet.submit("bigblob", 20_000, "quick")  # no worker runs: the bench holds it
    lease = await fleet.queue.start(job, "bench")
    assert lease is not None
    folder = fleet.root / "bigblob"
    folder.mkdir()
    with (folder / "checkpoint.keras").open("wb") as fh:
        for _ in range(int(megabytes)):
            fh.write(os.urandom(1_000_000))
    (folder / "best.npz").write_bytes(os.urandom(1000))
    (folder / "state.json").write_text('{"epoch": 1}')
    for what in ("store", "load"):
        began = time.monotonic()
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                what,
                "--pg-url",
                fleet.url,
                "--job",
                str(job),
                "--token",
                lease.token,
                "--folder",
                str(folder),
            ],
            env={**clean_env(), "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"},
            capture_output=True,
            text=True,
            check=True,
        )
        before, peak = (float(x) for x in out.stdout.split()[-2:])
        print(
            f"big blob ({megabytes:g} MB checkpoint): {what} in {time.monotonic() - began:.1f} s"
            f" (process start included); RSS {before:.0f} MB before, peak {peak:.0f} MB"
            f" (+{peak - before:.0f} MB)"
        )
    loaded = folder / "loaded" / "checkpoint.keras"
    same = loaded.stat().st_size == (folder / "checkpoint.keras").stat().st_size
    print(f"big blob: loaded back {'whole' if same else 'DIFFERENT'}")
    await fleet.queue.request_cancel(job)


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
        if "jobs" in parts:
            await many_jobs(fleet, args.jobs, args.job_minutes, args.checkpoint_seconds)
        if "bigblob" in parts:
            await big_blob(fleet, args.blob_mb)
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
    parser.add_argument("--jobs", type=int, default=50, help="how many quick jobs (part jobs)")
    parser.add_argument("--job-minutes", type=float, help="their cap (default: quick's)")
    parser.add_argument(
        "--checkpoint-seconds", type=float, default=60.0, help="their workers' setting"
    )
    parser.add_argument("--blob-mb", type=float, default=300.0, help="the big checkpoint (bigblob)")
    for hidden in ("--child", "--job", "--token", "--folder"):  # the bigblob part's child
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    parser.add_argument("--pg-url", help="a PostgreSQL server (default: a throwaway one)")
    parser.add_argument("--lease", type=float, default=60.0, help="LSTM_BOT_LEASE_SECONDS")
    parser.add_argument("--upload-mb", type=float, default=5.0, help="the largest upload")
    parser.add_argument(
        "--cancel-after",
        default="0",
        help="seconds after the start to cancel the big job (comma-separated: one job each)",
    )
    parser.add_argument(
        "--parts",
        default="quick,upload,takeover",
        help="which measurements (comma-separated; also jobs, bigblob)",
    )
    parsed = parser.parse_args()
    if parsed.child:
        parsed.job = int(parsed.job)
        _child_bigblob(parsed)
    else:
        asyncio.run(main(parsed))

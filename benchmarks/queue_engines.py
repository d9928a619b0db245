"""The job queue on both engines: no-op jobs per second and submit-to-start latency with 1, 4
and 16 worker processes, and progress-event latency from a worker to the bot (p50/p95).

    .venv/bin/python benchmarks/queue_engines.py                      # both engines, ~3 minutes
    .venv/bin/python benchmarks/queue_engines.py --engine postgres --pg-url postgresql://...

Workers are real processes running the engine's dispatch (``JobQueue.serve``: SQLite's lease
claims polled every ``--poll`` seconds; procrastinate's worker woken by LISTEN/NOTIFY) with a
handler that does no training: it finishes the job at once with a fenced ``complete``. Jobs
carry a 1 kB upload, as submitted by the bot. PostgreSQL: ``--pg-url`` (each run gets a fresh
database on that server, dropped afterwards) or, by default, the throwaway server the tests
use (``tests/pg_server.py``).

- **jobs/s**: workers idle, ``--jobs`` jobs submitted at once; jobs / (last finished - first
  submitted).
- **start latency**: workers idle, ``--starts`` jobs submitted one at a time (each once the
  previous has started): ``started_at - created_at`` (one machine, one clock).
- **event latency**: one worker process writes ``--events`` progress events (every 0.1 s) to a
  job it holds; the benchmark process reads them as the bot does (woken by the queue's
  notifications, polling every ``--poll`` s): time from the event's commit to the bot having it.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(ROOT)  # run as a script: this file's name would hide the stdlib's queue

import argparse  # noqa: E402
import asyncio  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

from jobs.engine import open_queue  # noqa: E402
from jobs.queue import JobQueue  # noqa: E402
from jobs.records import Lease  # noqa: E402

UPLOAD = b"x" * 1000


# ---- the worker processes ----------------------------------------------------------------


async def serve(args: argparse.Namespace) -> None:
    """A worker whose jobs do nothing: each is finished at once."""
    queue = await open_queue(queue_url=args.url, database_path=args.db, lease_seconds=60)
    stopping = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)

    async def finish(lease: Lease) -> None:
        await queue.complete(lease, {}, {})

    try:
        await queue.serve(
            finish, worker_id=f"bench-{os.getpid()}", stopping=stopping, poll_seconds=args.poll
        )
    finally:
        await queue.close()


async def write_events(args: argparse.Namespace) -> None:
    """Hold one job and write progress events to it, as a training worker does."""
    queue = await open_queue(queue_url=args.url, database_path=args.db, lease_seconds=60)
    stopping = asyncio.Event()

    async def progress(lease: Lease) -> None:
        for step in range(args.events):
            await queue.add_event(lease, "progress", {"step": step, "sent": time.time()})
            await asyncio.sleep(0.1)
        await queue.complete(lease, {}, {})
        stopping.set()

    try:
        await queue.serve(
            progress, worker_id="writer", stopping=stopping, poll_seconds=args.poll, once=True
        )
    finally:
        await queue.close()


# ---- the measurements --------------------------------------------------------------------


def start_workers(n: int, args: argparse.Namespace, url: str | None, db: Path) -> list:
    common = ["--poll", str(args.poll), "--db", str(db)] + (["--url", url] if url else [])
    return [
        subprocess.Popen([sys.executable, __file__, "--role", "worker", *common]) for _ in range(n)
    ]


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def submit(queue: JobQueue, n: int) -> int:
    job, _ = await queue.submit(
        guild_id=1,
        channel_id=2,
        user_id=n,
        model_name=f"bench-{n}",
        corpus=UPLOAD,
        params={},
        dedupe_key=uuid.uuid4().hex,
    )
    return job.id


async def wait_status(queue: JobQueue, ids: list[int], done: set[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        statuses = await queue.statuses(ids)
        if all(statuses.get(i) in done for i in ids):
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out: {sum(s in done for s in statuses.values())}/{len(ids)}")
        await asyncio.sleep(0.02)


async def throughput_and_latency(
    queue: JobQueue, workers: int, args: argparse.Namespace, url: str | None, db: Path
) -> tuple[float, list[float]]:
    procs = start_workers(workers, args, url, db)
    try:
        warm = [await submit(queue, 0)]  # every worker up and idle before timing
        await wait_status(queue, warm, {"succeeded"}, 120)
        await asyncio.sleep(2 * args.poll + 3)
        t0 = time.time()
        ids = [await submit(queue, n) for n in range(1, args.jobs + 1)]
        await wait_status(queue, ids, {"succeeded"}, 600)
        finished = max([(await queue.get(i)).finished_at for i in ids])
        rate = len(ids) / (finished - t0)
        await asyncio.sleep(2 * args.poll + 1)
        latencies = []
        for n in range(args.starts):
            job_id = await submit(queue, 10_000 + n)
            await wait_status(queue, [job_id], {"running", "succeeded"}, 120)
            job = await queue.get(job_id)
            latencies.append(job.started_at - job.created_at)
            await asyncio.sleep(0.05)
        return rate, latencies
    finally:
        stop(procs)


async def event_latency(
    queue: JobQueue, args: argparse.Namespace, url: str | None, db: Path
) -> list[float]:
    job_id = await submit(queue, 99_999)
    wake = asyncio.Event()
    queue.subscribe(wake.set)
    common = ["--poll", str(args.poll), "--db", str(db), "--events", str(args.events)]
    writer = subprocess.Popen(
        [sys.executable, __file__, "--role", "writer", *common, *(["--url", url] if url else [])]
    )
    latencies, seen = [], 0
    try:
        while len(latencies) < args.events:
            try:
                await asyncio.wait_for(wake.wait(), timeout=args.poll)
            except TimeoutError:
                pass
            wake.clear()
            now = time.time()
            for event in await queue.events_after(job_id, seen, 1000):
                seen = event.id
                if event.kind == "progress":
                    latencies.append(now - event.created_at)
            if writer.poll() is not None and writer.returncode != 0:
                raise SystemExit("the event writer failed")
    finally:
        stop([writer])
    return latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run_engine(engine: str, args: argparse.Namespace, base_url: str | None) -> list[str]:
    lines = []
    for workers in args.workers:
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "bench.sqlite3"
            url = await fresh_database(base_url) if engine == "postgres" else None
            queue = await open_queue(queue_url=url, database_path=db, lease_seconds=60)
            try:
                rate, starts = await throughput_and_latency(queue, workers, args, url, db)
                events = await event_latency(queue, args, url, db) if workers == 1 else []
            finally:
                await queue.close()
                if url:
                    drop_database(base_url, url)
        p50, p95 = 1000 * statistics.median(starts), 1000 * pct(starts, 0.95)
        line = (
            f"{engine:8} {workers:2d} workers: {rate:7.1f} no-op jobs/s; submit-to-start "
            f"p50 {p50:6.0f} ms, p95 {p95:6.0f} ms"
        )
        if events:
            line += (
                f"; progress event to the bot p50 {1000 * statistics.median(events):.0f} ms,"
                f" p95 {1000 * pct(events, 0.95):.0f} ms"
            )
        print(line, flush=True)
        lines.append(line)
    return lines


async def fresh_database(base_url: str) -> str:
    """A new, migrated database on the server at ``base_url``."""
    import psycopg

    from jobs.postgres import migrate

    name = "bench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = base_url.rsplit("/", 1)[0] + "/" + name
    await migrate(url)
    return url


def drop_database(base_url: str, url: str) -> None:
    import psycopg

    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")


async def main(args: argparse.Namespace) -> None:
    engines = ["sqlite", "postgres"] if args.engine == "both" else [args.engine]
    server = None
    base_url = args.pg_url
    if "postgres" in engines and not base_url:
        from tests.pg_server import PgServer

        server = PgServer()
        base_url = server.start()
    print(
        f"{os.cpu_count()} CPUs; poll {args.poll} s; {args.jobs} jobs for jobs/s, "
        f"{args.starts} for start latency, {args.events} progress events"
    )
    try:
        for engine in engines:
            await run_engine(engine, args, base_url)
    finally:
        if server is not None:
            server.stop()


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--pg-url", help="a PostgreSQL server to make scratch databases on")
    p.add_argument("--workers", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4, 16])
    p.add_argument("--jobs", type=int, default=200)
    p.add_argument("--starts", type=int, default=40)
    p.add_argument("--events", type=int, default=100)
    p.add_argument("--poll", type=float, default=2.0, help="LSTM_BOT_POLL_SECONDS (default 2)")
    p.add_argument("--role", choices=["bench", "worker", "writer"], default="bench")
    p.add_argument("--url")
    p.add_argument("--db")
    return p.parse_args(argv)


if __name__ == "__main__":
    ns = parse(sys.argv[1:])
    if ns.role == "worker":
        asyncio.run(serve(ns))
    elif ns.role == "writer":
        asyncio.run(write_events(ns))
    else:
        asyncio.run(main(ns))

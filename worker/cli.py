"""Command line of the worker: ``python -m worker`` or ``lstm-bot worker``.

Importing this module is cheap (no Keras). :func:`run` checks that training can run here,
opens the queue (so a wrong URL or a missing schema is said at once), and only then imports
Keras and its backend (:mod:`worker.runner`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from pathlib import Path

from jobs.config import SettingsError
from jobs.engine import open_queue
from jobs.errors import JobQueueError
from jobs.logs import setup_logging
from model_store.backend import configure, require_training
from model_store.errors import ModelStoreError

from .settings import WorkerSettings, load_worker_settings

DATABASE_WAIT_SECONDS = 30.0  # for the bot's SQLite file, without a queue URL


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--once", action="store_true", help="process one job, then exit (waits for one)"
    )
    parser.add_argument("--worker-id", help="name in logs and leases (default: host-pid)")
    parser.add_argument(
        "--poll",
        type=float,
        default=None,
        help="idle seconds between queue polls (default: LSTM_BOT_POLL_SECONDS)",
    )
    parser.add_argument(
        "--max-idle", type=float, default=None, help="exit after this many seconds without a job"
    )
    parser.add_argument(
        "--progress-seconds",
        type=float,
        default=5.0,
        help="least seconds between progress events (default 5)",
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="TensorFlow intra-op threads (default 1)"
    )


def run(args: argparse.Namespace, settings: WorkerSettings) -> int:
    """Run the worker with parsed arguments; returns the exit status."""
    setup_logging(settings.log_level, settings.queue_conninfo)
    if settings.log_level.upper() != "DEBUG":  # a line per job start/end, periodic checks too
        logging.getLogger("procrastinate").setLevel(logging.WARNING)
    if args.poll is not None:
        settings = settings.replace(poll_seconds=args.poll)
    require_training()
    return asyncio.run(_serve(args, settings))


async def _serve(args: argparse.Namespace, settings: WorkerSettings) -> int:
    if not settings.queue_url:
        await _wait_for_bot_database(settings.database_path)
    queue = await open_queue(
        queue_url=settings.queue_conninfo,
        database_path=settings.database_path,
        lease_seconds=settings.lease_seconds,
    )
    try:
        configure(threads=args.threads)
        from .runner import serve  # imports Keras and its backend

        return await serve(args, settings, queue)
    finally:
        await queue.close()


async def _wait_for_bot_database(path: Path) -> None:
    """The embedded queue is the bot's SQLite file: wait a little for the bot to make it (both
    started at once), never make an empty queue of the worker's own."""
    deadline = time.monotonic() + DATABASE_WAIT_SECONDS
    if not path.exists():
        logging.getLogger(__name__).info("waiting for the bot's database %s", path)
    while not path.exists():
        if time.monotonic() > deadline:
            raise SettingsError(
                f"no job queue: LSTM_BOT_QUEUE_URL is not set and the bot's database {path} does "
                f"not exist (set LSTM_BOT_QUEUE_URL, or LSTM_BOT_DATA_DIR / LSTM_BOT_DATABASE to "
                "where the bot keeps it, and start the bot)"
            )
        await asyncio.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m worker", description="Train queued models (no Discord connection)."
    )
    parser.add_argument("--env-file", default=".env", help="settings file (default: .env)")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        settings = load_worker_settings(dotenv=Path(args.env_file))
    except SettingsError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    try:
        return run(args, settings)
    except (SettingsError, JobQueueError, ModelStoreError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        return 130

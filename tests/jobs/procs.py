"""Helpers for tests that run real worker processes (``python -m worker``) on a tmp data dir,
with the bot's side (its database, registry and result importer) in the test process."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.db import bot_database
from bot.registry import ModelRecord, ModelRegistry
from bot.transfer import ResultImporter, base_model_for
from jobs.config import QUEUE_URL_ENV
from jobs.engine import open_queue
from jobs.records import Job
from jobs.tables import TableQueue
from model_store import ModelCatalog
from worker.process import clean_env, start_worker

from ..textgen import make_text

ROOT = Path(__file__).resolve().parents[2]

TINY_NETWORK = {"embedding_dim": 8, "units": 16, "layers": 1, "dropout": 0.0}
# A couple of seconds per epoch on a busy 2-core machine: time to cancel or kill mid-epoch.
SLOW_TRAIN = {
    "seq_len": 16,
    "batch_size": 4,
    "learning_rate": 0.01,
    "patience": 50,
    "sample_length": 40,
}
FAST_TRAIN = {
    "seq_len": 32,
    "batch_size": 8,
    "learning_rate": 0.01,
    "patience": 50,
    "sample_length": 40,
}


def params(epochs: int, *, slow: bool = False) -> dict[str, Any]:
    return {
        "effort": "quick",
        "epochs": epochs,
        "network": TINY_NETWORK,
        "train": SLOW_TRAIN if slow else FAST_TRAIN,
    }


class Env:
    """The bot's data directory and queue, and the settings environment for workers.

    With ``queue_url`` (PostgreSQL) each worker gets a data directory of its own, as on
    another machine: bot and workers share nothing but the database."""

    def __init__(self, tmp_path: Path, queue_url: str | None = None, **overrides: str):
        self.root = tmp_path
        self.data = tmp_path / "data"
        self.data.mkdir(parents=True)
        self.vars = clean_env()
        self.vars.update(
            PYTHONPATH=str(ROOT),
            LSTM_BOT_DATA_DIR=str(self.data),
            LSTM_BOT_LEASE_SECONDS="10",
            LSTM_BOT_POLL_SECONDS="0.2",
            LSTM_BOT_CHECKPOINT_SECONDS="0",  # every epoch's: tests kill workers mid-job
            LSTM_BOT_MIN_CORPUS_CHARS="500",
            LSTM_BOT_LOG_LEVEL="INFO",
            TF_CPP_MIN_LOG_LEVEL="2",
            TF_NUM_INTRAOP_THREADS="1",
            TF_NUM_INTEROP_THREADS="1",
        )
        if queue_url:
            self.vars[QUEUE_URL_ENV] = queue_url
        self.vars.update(overrides)
        self.queue_url = queue_url
        self.procs: list[subprocess.Popen] = []
        self.db = bot_database(self.data / "lstm-bot.sqlite3", embedded_queue=not queue_url)
        self.registry = ModelRegistry(self.db, ModelCatalog(self.data / "models", tmp_path / "b"))
        self.queue: TableQueue
        self.importer: ResultImporter
        self._n = 0

    async def __aenter__(self) -> Env:
        await self.db.open()
        self.queue = await open_queue(
            queue_url=self.queue_url,
            db=self.db,
            lease_seconds=float(self.vars["LSTM_BOT_LEASE_SECONDS"]),
            max_attempts=int(self.vars.get("LSTM_BOT_MAX_ATTEMPTS", "3")),
        )
        self.importer = ResultImporter(
            self.queue, self.registry, self.data / "guild-models", self.data
        )
        return self

    def worker_data(self, name: str) -> Path:
        """Where worker ``name`` keeps its files (its own machine with PostgreSQL)."""
        return self.root / f"machine-{name}" if self.queue_url else self.data

    async def __aexit__(self, *exc: object) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        await self.queue.close()
        await self.db.close()

    async def submit(
        self,
        name: str,
        job_params: dict[str, Any],
        *,
        chars: int = 4000,
        base: ModelRecord | None = None,
        guild_id: int = 7,
        text: str | None = None,
    ) -> Job:
        self._n += 1
        corpus = text if text is not None else make_text(chars, seed=self._n)
        job, _ = await self.queue.submit(
            guild_id=guild_id,
            channel_id=8,
            user_id=9,
            model_name=name,
            corpus=corpus.encode("utf-8"),
            params=job_params,
            base=base_model_for(base, Path(base.path)) if base else None,
            dedupe_key=f"interaction-{self._n}",
        )
        return job

    async def import_results(self) -> list[ModelRecord]:
        """What the bot does with succeeded jobs: publish them into its registry."""
        return [
            record
            for job in await self.queue.jobs_to_import()
            if (record := await self.importer.import_job(job)) is not None
        ]

    def start_worker(self, name: str, *args: str, **env: str) -> subprocess.Popen:
        proc = start_worker(
            {**self.vars, "LSTM_BOT_DATA_DIR": str(self.worker_data(name)), **env},
            self.root / f"{name}.log",
            *("--worker-id", name, "--progress-seconds", "0.3", "--poll", "0.2", *args),
            cwd=self.root,
        )
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    async def events(self, job_id: int) -> list[tuple[str, dict[str, Any]]]:
        return [(e.kind, e.payload) for e in await self.queue.events_after(job_id, 0, 1000)]

    async def job(self, job_id: int) -> Job:
        job = await self.queue.get(job_id)
        assert job is not None
        return job


async def wait_for(
    check: Callable[[], Awaitable[Any]], timeout: float, what: str, interval: float = 0.1
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(interval)


async def wait_exit(proc: subprocess.Popen, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"worker did not exit within {timeout:.0f} s")
        await asyncio.sleep(0.1)
    return proc.returncode

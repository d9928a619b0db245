"""The worker loop: claim a job, train it in a thread while the event loop heartbeats and
writes progress, then publish the model, or fail, cancel or release the job.

Signals: the first SIGTERM/SIGINT lets the current epoch finish and checkpoint, then releases
the job (another worker resumes it) and exits 0; a second one stops at once and releases.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import signal
import socket
import time
from argparse import Namespace
from pathlib import Path

from bot.settings import Settings
from jobs.db import Database
from jobs.errors import CancelRequested, LeaseLost, NameTaken
from jobs.records import EPOCH, Job, Lease
from jobs.sqlite import SQLITE_MIGRATIONS, JobQueue
from model_store import Generator, ModelArtifact, ModelStore, SampleOptions
from model_store.store import BUILTIN_DIR
from model_store.train import TrainingCancelled, TrainingPaused, TrainResult

from . import janitor
from .control import JobControl
from .params import ParamsError, parse_params
from .plot import plot_losses
from .publish import model_dirname, publish_files, remove_files
from .training import JobFailure, train_job

log = logging.getLogger(__name__)

TICK_SECONDS = 0.25
JANITOR_SECONDS = 600.0


class Worker:
    def __init__(
        self,
        queue: JobQueue,
        settings: Settings,
        *,
        worker_id: str,
        device: str,
        poll_seconds: float,
        progress_seconds: float,
    ):
        self.queue = queue
        self.settings = settings
        self.worker_id = worker_id
        self.device = device
        self.poll_seconds = poll_seconds
        self.progress_seconds = progress_seconds
        self.heartbeat_seconds = max(0.2, min(settings.lease_seconds / 3, 2.0))
        self.stopping = False
        self.current: JobControl | None = None
        self._wake = asyncio.Event()

    def on_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        ctl = self.current
        self.stopping = True
        self._wake.set()
        if ctl is None:
            log.info("%s: stopping", name)
        elif not ctl.pause:
            log.info("%s: finishing this epoch's checkpoint, then releasing the job", name)
            ctl.pause = True
        else:
            log.info("%s again: stopping now and releasing the job", name)
            ctl.abort = True

    async def serve(self, *, once: bool = False, max_idle: float | None = None) -> int:
        await janitor.sweep(self.queue, self.settings)
        idle_since = swept = time.monotonic()
        while not self.stopping:
            lease = await self.queue.claim(self.worker_id)
            if lease is None:
                if max_idle is not None and time.monotonic() - idle_since >= max_idle:
                    log.info("no job for %.0f s: exiting", max_idle)
                    break
                if time.monotonic() - swept >= JANITOR_SECONDS:
                    await janitor.sweep(self.queue, self.settings)
                    swept = time.monotonic()
                await self._sleep(self.poll_seconds * random.uniform(0.8, 1.2))
                continue
            try:
                await self.process(lease)
            except LeaseLost as exc:
                log.warning("%s; another worker has the job", exc)
            idle_since = time.monotonic()
            if once:
                break
        return 0

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass

    async def process(self, lease: Lease) -> None:
        job = await self.queue.get(lease.job_id)
        assert job is not None
        log.info(
            "job %d: '%s' for guild %d, attempt %d/%d on %s",
            job.id,
            job.model_name,
            job.guild_id,
            lease.attempt,
            job.max_attempts,
            self.device,
        )
        ctl = JobControl(
            self.progress_seconds,
            {
                "attempt": lease.attempt,
                "max_attempts": job.max_attempts,
                "worker": self.worker_id,
                "device": self.device,
                "base_model": job.base_model,
            },
        )
        if self.stopping:
            ctl.pause = True
        self.current = ctl
        done = asyncio.Event()
        keepalive = asyncio.create_task(self._keepalive(lease, ctl, done))
        try:
            await self._run(lease, job, ctl, keepalive, done)
        except LeaseLost:
            raise
        except Exception as exc:  # e.g. the model could not be written: retry later
            log.exception("job %d: failed", job.id)
            reason = f"the worker hit an unexpected error ({type(exc).__name__}: {exc})"
            await self._fail(lease, job, reason[:300], True)
        finally:
            done.set()
            await asyncio.gather(keepalive, return_exceptions=True)
            self.current = None

    async def _run(
        self, lease: Lease, job: Job, ctl: JobControl, keepalive: asyncio.Task, done: asyncio.Event
    ) -> None:
        ckpt = janitor.checkpoint_dir(self.settings, job.id)
        try:
            plan = parse_params(job.params)
            base_path = await self._base_path(job)
            result = await asyncio.to_thread(
                train_job, job, plan, base_path, ctl, ckpt, self.settings.min_corpus_chars
            )
        except (TrainingCancelled, TrainingPaused):
            await self._stop_keepalive(keepalive, done, lease, ctl)
            if ctl.lease_lost:
                log.warning("job %d: lease lost; stopped without writing", job.id)
            elif ctl.cancel_requested:
                await self.queue.finish_cancelled(lease)
                await self._cleanup(job)
                log.info("job %d: cancelled", job.id)
            else:
                await self.queue.release(lease)
                log.info("job %d: released; it will resume from its last checkpoint", job.id)
            return
        except (JobFailure, ParamsError) as exc:
            retryable = isinstance(exc, JobFailure) and exc.retryable
            await self._stop_keepalive(keepalive, done, lease, ctl)
            await self._fail(lease, job, str(exc), retryable)
            return
        except Exception as exc:
            log.exception("job %d: training crashed", job.id)
            await self._stop_keepalive(keepalive, done, lease, ctl)
            reason = f"training stopped with an unexpected error ({type(exc).__name__}: {exc})"
            await self._fail(lease, job, reason[:300], True)
            return
        await self._publish(lease, job, result, ctl, keepalive, done)

    async def _publish(
        self,
        lease: Lease,
        job: Job,
        result: TrainResult,
        ctl: JobControl,
        keepalive: asyncio.Task,
        done: asyncio.Event,
    ) -> None:
        artifact = result.artifact
        plot = await asyncio.to_thread(self._plot, job, result)
        sample = await asyncio.to_thread(_sample, artifact, ctl.sample_seed)
        dirname = model_dirname(job.model_name, job.id, lease.token)
        path = await asyncio.to_thread(
            publish_files, self.settings.guild_model_path, job.guild_id, artifact, dirname
        )
        card = artifact.card
        payload = {
            "sample": sample,
            "sample_seed": ctl.sample_seed,
            "stopped": result.stopped,
            "epochs_run": card["training"]["epochs_run"],
            "heldout_loss": card["heldout_loss_nats"],
            "seconds": card["training_seconds"],
        }
        try:
            await self._stop_keepalive(keepalive, done, lease, ctl)
            await self.queue.complete(
                lease,
                card=card,
                path=str(path),
                plot_path=str(plot) if plot else None,
                payload=payload,
            )
        except NameTaken as exc:
            remove_files(path)
            await self._fail(lease, job, f"{exc}; train it again under another name", False)
            return
        except CancelRequested:
            remove_files(path)
            await self.queue.finish_cancelled(lease)
            await self._cleanup(job)
            log.info("job %d: cancelled before it was published", job.id)
            return
        except BaseException:
            remove_files(path)
            raise
        log.info("job %d: published '%s' at %s", job.id, job.model_name, path)
        await self._cleanup(job)

    def _plot(self, job: Job, result: TrainResult) -> Path | None:
        path = (self.settings.data_dir / "plots" / f"job-{job.id}.png").resolve()
        try:
            return plot_losses(result.history, path, f"{job.model_name}: loss per epoch")
        except Exception:  # noqa: BLE001 - a missing plot must not lose the model
            log.exception("job %d: could not draw the loss plot", job.id)
            return None

    async def _fail(self, lease: Lease, job: Job, reason: str, retryable: bool) -> None:
        after = await self.queue.fail(lease, reason, retryable=retryable)
        if after.status == "failed":
            await self._cleanup(job)

    async def _cleanup(self, job: Job) -> None:
        janitor.remove_checkpoints(self.settings, job.id)
        fresh = await self.queue.get(job.id)
        if fresh is not None:
            await janitor.remove_corpus(self.queue, self.settings, fresh)

    async def _base_path(self, job: Job) -> str | None:
        if not job.base_model:
            return None
        row = await self.queue.db.fetchone(
            "SELECT path FROM models WHERE name = ? AND guild_id IN (0, ?) AND status = 'ready'"
            " ORDER BY guild_id = 0 LIMIT 1",
            (job.base_model, job.guild_id),
        )
        if row is not None:
            return row["path"]
        builtin = ModelStore(BUILTIN_DIR, read_only=True)
        if builtin.exists(job.base_model):
            return str(builtin.path(job.base_model))
        raise JobFailure(f"the base model '{job.base_model}' no longer exists")

    # ---- the lease and the events, while training runs -----------------------------------

    async def _keepalive(self, lease: Lease, ctl: JobControl, done: asyncio.Event) -> None:
        next_beat = time.monotonic() + self.heartbeat_seconds
        while not done.is_set():
            try:
                await asyncio.wait_for(done.wait(), TICK_SECONDS)
            except TimeoutError:
                pass
            if done.is_set():
                return
            try:
                await self._flush(lease, ctl)
                if time.monotonic() >= next_beat:
                    beat = await self.queue.heartbeat(lease)
                    next_beat = time.monotonic() + self.heartbeat_seconds
                    if not beat.held:
                        raise LeaseLost(f"job {lease.job_id}: lease lost")
                    if beat.cancel_requested and not ctl.cancel_requested:
                        log.info("job %d: cancel requested", lease.job_id)
                        ctl.cancel_requested = True
            except LeaseLost:
                log.warning("job %d: this worker lost its lease", lease.job_id)
                ctl.lease_lost = True
                return
            except Exception:  # noqa: BLE001 - e.g. the database busy; try again next tick
                log.exception("job %d: heartbeat failed", lease.job_id)

    async def _stop_keepalive(
        self, keepalive: asyncio.Task, done: asyncio.Event, lease: Lease, ctl: JobControl
    ) -> None:
        """Stop heartbeating and write what is left, so the final event comes last."""
        done.set()
        await asyncio.gather(keepalive, return_exceptions=True)
        if not ctl.lease_lost:
            await self._flush(lease, ctl, force=True)

    async def _flush(self, lease: Lease, ctl: JobControl, *, force: bool = False) -> None:
        for kind, payload in ctl.drain(force=force):
            await self.queue.add_event(lease, kind, payload)
            if kind == EPOCH:
                log.info(
                    "job %d: epoch %d/%d, loss %.3f, held-out %.3f nats/char, %.0f s",
                    lease.job_id,
                    payload["epoch"],
                    payload["epochs"],
                    payload["loss"],
                    payload["heldout_loss"],
                    payload["seconds"],
                )


def _sample(artifact: ModelArtifact, seed: str | None) -> str | None:
    if not seed:
        return None
    try:
        options = SampleOptions(temperature=0.5, length=200, rng_seed=0)
        return Generator(artifact).generate(seed, options)[0]
    except Exception:  # noqa: BLE001 - the sample is decoration
        log.exception("could not sample from the new model")
        return None


async def serve(args: Namespace, settings: Settings) -> int:
    """Run a worker until stopped (or after one job with ``--once``)."""
    from model_store.backend import configure, describe_device

    worker_id = args.worker_id or f"{socket.gethostname()}-{os.getpid()}"
    loop = asyncio.get_running_loop()
    pending_signals: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, pending_signals.append, sig)
    configure(threads=args.threads)
    device = await asyncio.to_thread(describe_device)
    log.info("worker %s starting: training on %s", worker_id, device)
    async with Database(settings.database_path, [SQLITE_MIGRATIONS]) as db:
        queue = JobQueue.from_settings(db, settings)
        worker = Worker(
            queue,
            settings,
            worker_id=worker_id,
            device=device,
            poll_seconds=args.poll if args.poll is not None else settings.poll_seconds,
            progress_seconds=args.progress_seconds,
        )
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, worker.on_signal, sig)
        for sig in pending_signals:
            worker.on_signal(sig)
        code = await worker.serve(once=args.once, max_idle=args.max_idle)
    log.info("worker %s stopped", worker_id)
    return code

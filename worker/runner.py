"""The worker: takes a job from the queue (either engine), fetches its inputs, trains it in a
thread while the event loop heartbeats, uploads each epoch's checkpoint and writes progress,
then stores the result for the bot to import, or fails, cancels or releases the job.

The worker needs only the queue and a scratch directory: it never touches the bot's registry,
model directory or database tables of the bot.

Signals: the first SIGTERM/SIGINT lets the current epoch finish and checkpoint, then releases
the job (another worker resumes it) and exits 0; a second one stops at once and releases.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import time
from argparse import Namespace
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from jobs.backoff import Backoff
from jobs.errors import CancelRequested, LeaseLost, QueueUnavailable
from jobs.queue import JobQueue
from jobs.records import EPOCH, Job, Lease
from model_store import Generator, ModelArtifact, SampleOptions
from model_store.artifact import write_artifact
from model_store.train import TrainingCancelled, TrainingPaused, TrainResult

from . import janitor
from .control import JobControl
from .failures import classify, expected
from .inputs import Inputs, discard_snapshots, fetch_inputs, snapshot_checkpoint
from .params import TrainingPlan, parse_params
from .plot import plot_losses
from .plot import warm_up as warm_up_plots
from .settings import WorkerSettings
from .training import JobFailure, train_job

log = logging.getLogger(__name__)

TICK_SECONDS = 0.25
PLOT_FILE = "loss.png"
OUTBOX = "outbox"  # in a job's folder: checkpoints taken and not stored yet
MAX_RETRY_SECONDS = 15.0  # the longest wait between tries of a write the database refused
T = TypeVar("T")


class Worker:
    def __init__(
        self,
        queue: JobQueue,
        settings: WorkerSettings,
        *,
        worker_id: str,
        device: str,
        progress_seconds: float,
    ):
        self.queue = queue
        self.settings = settings
        self.worker_id = worker_id
        self.device = device
        self.progress_seconds = progress_seconds
        self.heartbeat_seconds = max(0.2, min(settings.lease_seconds / 3, 2.0))
        self.stopping = asyncio.Event()
        self.current: JobControl | None = None
        self._training: asyncio.Future[TrainResult] | None = None  # the training thread

    def on_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        ctl = self.current
        self.stopping.set()
        if ctl is None:
            log.info("%s: stopping", name)
        elif not ctl.pause:
            log.info("%s: finishing this epoch's checkpoint, then releasing the job", name)
            ctl.pause = True
        else:
            log.info("%s again: stopping now and releasing the job", name)
            ctl.abort = True

    async def serve(self, *, once: bool = False, max_idle: float | None = None) -> int:
        janitor.sweep(self.settings.scratch_path)
        await self.queue.serve(
            self.process,
            worker_id=self.worker_id,
            stopping=self.stopping,
            poll_seconds=self.settings.poll_seconds,
            once=once,
            max_idle=max_idle,
        )
        return 0

    async def process(self, lease: Lease) -> None:
        job = await self._written(None, lambda: self.queue.get(lease.job_id))
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
        folder = janitor.JobFolder(self.settings.scratch_path, job.id)
        workdir = folder.path
        ctl = JobControl(
            self.progress_seconds,
            {
                "attempt": lease.attempt,
                "max_attempts": job.max_attempts,
                "worker": self.worker_id,
                "device": self.device,
                "base_model": job.base_model,
            },
            snapshot=lambda: snapshot_checkpoint(workdir / "checkpoint", workdir / OUTBOX),
            stored=lambda epoch: discard_snapshots(workdir / OUTBOX, epoch),
            checkpoint_seconds=self.settings.checkpoint_seconds,
        )
        if self.stopping.is_set():
            ctl.pause = True
        self.current = ctl
        done = asyncio.Event()
        keepalive = asyncio.create_task(self._keepalive(lease, ctl, done))
        try:
            await self._run(lease, job, ctl, workdir, keepalive, done)
        except LeaseLost:
            raise
        except Exception as exc:  # e.g. the result could not be stored
            log.exception("job %d: failed", job.id)
            await self._stop_keepalive(keepalive, done, lease, ctl)
            await self._fail(lease, job, classify(exc))
        finally:
            done.set()
            await asyncio.gather(keepalive, return_exceptions=True)
            if self._training is not None:  # a cancelled job's thread, still stopping
                await asyncio.gather(self._training, return_exceptions=True)
                self._training = None
            self.current = None
            folder.release()

    async def _run(
        self,
        lease: Lease,
        job: Job,
        ctl: JobControl,
        workdir: Path,
        keepalive: asyncio.Task,
        done: asyncio.Event,
    ) -> None:
        try:
            plan = parse_params(job.params)
            inputs = await fetch_inputs(self.queue, job, workdir, ctl.should_stop)
            result = await self._train(job, plan, inputs, ctl)
        except (TrainingCancelled, TrainingPaused):
            handed_back = not ctl.cancel_requested  # released: store the latest checkpoint
            await self._stop_keepalive(keepalive, done, lease, ctl, handed_back=handed_back)
            if ctl.lease_lost:
                log.warning("job %d: lease lost; stopped without writing", job.id)
            elif ctl.cancel_requested:
                await self._written(ctl, lambda: self.queue.finish_cancelled(lease))
                log.info("job %d: cancelled", job.id)
            else:
                await self._written(ctl, lambda: self.queue.release(lease))
                log.info("job %d: released; it resumes after its last checkpoint", job.id)
            return
        except Exception as exc:
            if expected(exc):
                log.info("job %d: %s", job.id, classify(exc).reason.english())
            else:
                log.exception("job %d: training failed", job.id)
            await self._stop_keepalive(keepalive, done, lease, ctl)
            await self._fail(lease, job, classify(exc))
            return
        await self._complete(lease, job, result, ctl, workdir, keepalive, done)

    async def _train(
        self, job: Job, plan: TrainingPlan, inputs: Inputs, ctl: JobControl
    ) -> TrainResult:
        """Train in a thread. A cancel raises :class:`TrainingCancelled` here at once (the
        job ends cancelled within a tick) while the thread stops at its next check (a first
        step that compiles, a big model's step); :meth:`process` waits for the thread before
        the next job."""
        thread = asyncio.ensure_future(
            asyncio.to_thread(
                train_job, job, plan, inputs.text, inputs.base, ctl, inputs.checkpoint_dir
            )
        )
        self._training = thread
        while not thread.done():
            await asyncio.wait([thread], timeout=TICK_SECONDS)
            if ctl.cancel_requested and not thread.done():
                raise TrainingCancelled(f"job {job.id} cancelled while training")
        return thread.result()

    async def _complete(
        self,
        lease: Lease,
        job: Job,
        result: TrainResult,
        ctl: JobControl,
        workdir: Path,
        keepalive: asyncio.Task,
        done: asyncio.Event,
    ) -> None:
        files = await asyncio.to_thread(_result_files, job, result, workdir / "result")
        sample = await asyncio.to_thread(_sample, result.artifact, ctl.sample_seed)
        card = result.artifact.card
        payload = {
            "card": card,
            "sample": sample,
            "sample_seed": ctl.sample_seed,
            "stopped": result.stopped,
            "epochs_run": card["training"]["epochs_run"],
            "heldout_loss": card["heldout_loss_nats"],
            "seconds": card["training_seconds"],
        }
        await self._stop_keepalive(keepalive, done, lease, ctl)
        try:
            await self._written(ctl, lambda: self.queue.complete(lease, files, payload))
        except CancelRequested:
            await self._written(ctl, lambda: self.queue.finish_cancelled(lease))
            log.info("job %d: cancelled before its result was stored", job.id)
            return
        log.info("job %d: result stored for the bot to import", job.id)

    async def _fail(self, lease: Lease, job: Job, failure: JobFailure) -> None:
        try:
            await self._written(
                self.current,
                lambda: self.queue.fail(lease, failure.reason, retryable=failure.retryable),
            )
        except LeaseLost:
            raise
        except Exception:  # noqa: BLE001 - the queue is unreachable: the job is taken over later
            log.exception("job %d: could not record the failure", job.id)

    async def _written(self, ctl: JobControl | None, write: Callable[[], Awaitable[T]]) -> T:
        """Do ``write``, again and again with a jittered backoff while the queue's database
        can't be reached (a restart, a failover), unless told to stop at once."""
        retry = Backoff(first=0.5, most=MAX_RETRY_SECONDS)
        while True:
            try:
                return await write()
            except QueueUnavailable as exc:
                if ctl is not None and ctl.abort:
                    raise
                log.warning("%s; trying again", exc)
                await asyncio.sleep(retry.next())

    # ---- the lease, checkpoints and events, while training runs --------------------------

    async def _keepalive(self, lease: Lease, ctl: JobControl, done: asyncio.Event) -> None:
        next_beat = time.monotonic() + self.heartbeat_seconds
        unreachable = False
        while not done.is_set():
            try:
                await asyncio.wait_for(done.wait(), TICK_SECONDS)
            except TimeoutError:
                pass
            if done.is_set():
                return
            if not ctl.cancel_requested and self.queue.cancel_seen(lease):
                log.info("job %d: cancel requested", lease.job_id)
                ctl.cancel_requested = True  # at once, not at the next heartbeat
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
            except QueueUnavailable as exc:  # training goes on; written when it is back
                if not unreachable:
                    log.warning("job %d: %s; training goes on", lease.job_id, exc)
                unreachable = True
                continue
            except Exception:  # noqa: BLE001 - e.g. the database busy; try again next tick
                log.exception("job %d: heartbeat failed", lease.job_id)
            if unreachable:
                log.info("job %d: the job queue's database is back", lease.job_id)
                unreachable = False

    async def _stop_keepalive(
        self,
        keepalive: asyncio.Task,
        done: asyncio.Event,
        lease: Lease,
        ctl: JobControl,
        *,
        handed_back: bool = False,
    ) -> None:
        """Stop heartbeating and write what is left, so the final event comes last (and the
        latest checkpoint when the job is ``handed_back`` for another worker to resume)."""
        done.set()
        await asyncio.gather(keepalive, return_exceptions=True)
        if not ctl.lease_lost:
            await self._written(
                ctl, lambda: self._flush(lease, ctl, force=True, final_checkpoint=handed_back)
            )

    async def _flush(
        self, lease: Lease, ctl: JobControl, *, force: bool = False, final_checkpoint: bool = False
    ) -> None:
        checkpoint = ctl.take_checkpoint(final=final_checkpoint)
        if checkpoint is not None:
            epoch, files = checkpoint
            try:
                await self.queue.save_checkpoint(lease, epoch, files)
            except QueueUnavailable:
                ctl.put_back_checkpoint(checkpoint)
                raise
            ctl.checkpoint_stored(epoch)
            log.debug("job %d: checkpoint of epoch %d stored", lease.job_id, epoch)
        events = ctl.drain(force=force)
        for n, (kind, payload) in enumerate(events):
            try:
                await self.queue.add_event(lease, kind, payload)
            except QueueUnavailable:
                ctl.put_back(events[n:])
                raise
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


def _result_files(job: Job, result: TrainResult, directory: Path) -> dict[str, Path]:
    """The model's files (as the model store writes them) and the loss plot, streamed into
    the queue from ``directory``."""
    write_artifact(directory, result.artifact)
    files = {p.name: p for p in directory.iterdir() if p.is_file()}
    try:
        title = f"{job.model_name}: loss per epoch"
        files[PLOT_FILE] = plot_losses(result.history, directory / PLOT_FILE, title)
    except Exception:  # noqa: BLE001 - a missing plot must not lose the model
        log.exception("job %d: could not draw the loss plot", job.id)
    return files


def _sample(artifact: ModelArtifact, seed: str | None) -> str | None:
    if not seed:
        return None
    try:
        options = SampleOptions(temperature=0.5, length=200, rng_seed=0)
        return Generator(artifact).generate(seed, options)[0]
    except Exception:  # noqa: BLE001 - the sample is decoration
        log.exception("could not sample from the new model")
        return None


async def serve(args: Namespace, settings: WorkerSettings, queue: JobQueue) -> int:
    """Run a worker on ``queue`` until stopped (or after one job with ``--once``)."""
    from model_store.backend import describe_device

    worker_id = args.worker_id or f"{socket.gethostname()}-{os.getpid()}"
    loop = asyncio.get_running_loop()
    pending_signals: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, pending_signals.append, sig)
    device = await asyncio.to_thread(describe_device)
    await asyncio.to_thread(warm_up_plots)
    log.info(
        "worker %s starting: training on %s; queue %s", worker_id, device, settings.queue_shown
    )
    worker = Worker(
        queue,
        settings,
        worker_id=worker_id,
        device=device,
        progress_seconds=args.progress_seconds,
    )
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, worker.on_signal, sig)
    for sig in pending_signals:
        worker.on_signal(sig)
    code = await worker.serve(once=args.once, max_idle=args.max_idle)
    log.info("worker %s stopped", worker_id)
    return code

"""The bridge between the training thread and the worker's event loop.

Training calls the :class:`JobControl` callbacks from its thread; they only record events
(and, after each epoch, a snapshot of the checkpoint training just wrote: its files, not
their bytes). The event loop drains
them (throttling progress) and writes them to the queue, the checkpoint first, and sets the
flags that training polls: ``should_stop`` every step, ``should_pause`` after each epoch.

A checkpoint is uploaded when it pays: once ``checkpoint_seconds`` of training have passed
since the last one stored (or the attempt's start), and when the job is handed back; a job
shorter than that writes none (what a takeover would lose is less than the writing costs).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from jobs.blobs import Source
from jobs.records import EPOCH, PROGRESS, STARTED
from model_store.train import EpochEnd, Progress, TrainingCallback

SAMPLE_CHARS = 200
Checkpoint = tuple[int, Mapping[str, Source]]  # the epoch it ends, and its files


class JobControl(TrainingCallback):
    def __init__(
        self,
        progress_seconds: float,
        started_extra: dict[str, Any],
        snapshot: Callable[[], Checkpoint | None] = lambda: None,
        stored: Callable[[int], None] = lambda epoch: None,
        *,
        checkpoint_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.progress_seconds = progress_seconds
        self.checkpoint_seconds = checkpoint_seconds
        self.clock = clock
        self._stored_at = clock()  # the attempt's start: nothing to lose before it
        self.started_extra = started_extra
        self.snapshot = snapshot  # (epoch, files) of the checkpoint on disk, after each epoch
        self.stored = stored  # told the epoch of each checkpoint stored (older ones can go)
        self.cancel_requested = False  # the user cancelled: stop now
        self.lease_lost = False  # another worker owns the job now: stop, write nothing
        self.pause = False  # shutting down: stop after this epoch's checkpoint
        self.abort = False  # shutting down at once (second signal): stop now, release
        self.sample_seed: str | None = None
        self._lock = threading.Lock()
        self._events: list[tuple[str, dict[str, Any]]] = []
        self._progress: dict[str, Any] | None = None
        self._progress_sent = 0.0
        self._checkpoint: Checkpoint | None = None
        self._checkpoint_epoch = 0  # the newest checkpoint taken so far

    # ---- called from the training thread -------------------------------------------------

    def on_start(self, info: dict[str, Any]) -> None:
        payload = {
            **self.started_extra,
            "resumed_from_epoch": info["start_epoch"] - 1,
            "epochs": info["epochs"],
            "steps_per_epoch": info["steps_per_epoch"],
            "network": info["network"],
            "base_heldout_loss": _round(info.get("base_heldout_loss")),
            "uniform_loss": _round(info.get("uniform_loss")),
            "batch_size": info.get("batch_size"),
            "seq_len": info.get("seq_len"),
        }
        with self._lock:
            self._events.append((STARTED, payload))

    def on_progress(self, p: Progress) -> None:
        payload = {
            "epoch": p.epoch,
            "epochs": p.epochs,
            "step": p.step,
            "steps": p.steps,
            "loss": _round(p.loss),
            "heldout_loss": _round(p.heldout_loss),
            "chars_per_sec": round(p.chars_per_sec),
            "elapsed": round(p.elapsed, 1),
            "eta_seconds": None if p.eta_seconds is None else round(p.eta_seconds),
        }
        with self._lock:
            if p.step == p.steps:  # an epoch's last step is always reported (unthrottled)
                self._events.append((PROGRESS, payload))
                self._progress = None
            else:
                self._progress = payload

    def on_epoch_end(self, r: EpochEnd) -> None:
        self.sample_seed = r.sample_seed
        snapshot = self.snapshot()  # written (if due); the next epoch has not begun
        payload = {
            "epoch": r.epoch,
            "epochs": r.epochs,
            "loss": _round(r.loss),
            "heldout_loss": _round(r.heldout_loss),
            "best_heldout_loss": _round(r.best_heldout_loss),
            "improved": r.improved,
            "sample": r.sample[:SAMPLE_CHARS],
            "sample_seed": r.sample_seed,
            "seconds": round(r.seconds, 1),
            "step_seconds": round(r.step_seconds, 2),
            "after_seconds": round(r.after_seconds, 2),  # held-out check, sample, checkpoint
        }
        with self._lock:
            self._progress = None  # superseded by the epoch's result
            self._events.append((EPOCH, payload))
            if snapshot is not None and snapshot[0] > self._checkpoint_epoch:
                self._checkpoint_epoch = snapshot[0]
                self._checkpoint = snapshot

    def should_stop(self) -> bool:
        return self.cancel_requested or self.lease_lost or self.abort

    def should_pause(self) -> bool:
        return self.pause

    # ---- called from the event loop ------------------------------------------------------

    def take_checkpoint(self, *, final: bool = False) -> Checkpoint | None:
        """The latest epoch's checkpoint not uploaded yet (older ones are superseded), once
        it is due (``checkpoint_seconds`` after the last one stored), or at once if
        ``final`` (the job is handed back)."""
        with self._lock:
            due = final or self.clock() - self._stored_at >= self.checkpoint_seconds
            if not due:
                return None
            checkpoint, self._checkpoint = self._checkpoint, None
        return checkpoint

    def checkpoint_stored(self, epoch: int) -> None:
        self._stored_at = self.clock()
        self.stored(epoch)

    def put_back_checkpoint(self, checkpoint: Checkpoint) -> None:
        """A checkpoint that could not be written, unless a newer one came meanwhile."""
        with self._lock:
            if self._checkpoint is None:
                self._checkpoint = checkpoint

    def put_back(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        """Events that could not be written: first in line again, in their order."""
        with self._lock:
            self._events = events + self._events

    def drain(self, *, force: bool = False) -> list[tuple[str, dict[str, Any]]]:
        """Events to write now: every recorded one, then the latest progress if due."""
        now = time.monotonic()
        with self._lock:
            out, self._events = self._events, []
            due = force or now - self._progress_sent >= self.progress_seconds
            if self._progress is not None and due:
                out.append((PROGRESS, self._progress))
                self._progress, self._progress_sent = None, now
        return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)

"""Training and fine-tuning (Keras 3): many-to-many next-character prediction.

:func:`train` runs these steps, top to bottom:

1. :func:`prepare`: the charset and the network (a new one, or the base's with rows added for
   new characters), the 90/10 split (the last 10% is held out), sequence length and batch.
2. :func:`start`: :func:`resume` from a checkpoint directory, or :func:`build` a fresh
   compiled model.
3. The step loop (:func:`run_epoch`): :class:`Batches` deals shuffled sequences of ``seq_len``
   characters, pass after pass over the training text, and every position is a target. An
   epoch is ``steps_per_epoch`` optimiser steps (default: one pass). A loss that is not a
   finite number stops training at once (:class:`TrainingDiverged`).
4. After each epoch (in :func:`train_epochs`): the held-out check, computed by the Keras
   backend on the training device (:class:`HeldoutCheck`); the learning-rate schedule
   (:func:`schedule`: keep the best weights, halve the rate when the held-out loss does not
   improve, stop after ``patience`` such epochs); a short :func:`sample`; a checkpoint when
   one is due (:class:`Checkpointer`).
5. :func:`finish`: the best weights, rounded as they will be stored, scored by the numpy
   evaluator on all of the held-out text (the number ``lstm-bot evaluate`` gives), and the
   model card, which also records the base model's loss and a uniform guess (ln V).

A :class:`TrainingCallback` receives progress and can cancel (``should_stop``, every step) or
pause (``should_pause``, after an epoch: checkpoint, then :class:`TrainingPaused`). A later
call with the same ``checkpoint_dir`` resumes after the last checkpointed epoch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .artifact import ModelArtifact, storage_rounded
from .backend import training_device
from .charset import Charset
from .config import NetworkConfig, TrainConfig
from .corpus import Stop, split_heldout
from .errors import CorpusError, ModelStoreError, TrainingCancelled, TrainingDiverged
from .evaluate import evaluate_ids, piece_grid
from .lstm import NumpyLSTM
from .network import build_model, get_weights, grow_vocabulary, keras, set_weights
from .sampling import Generator, SampleOptions

log = logging.getLogger(__name__)

CHECKPOINT_MODEL = "checkpoint.keras"
CHECKPOINT_BEST = "best.npz"
CHECKPOINT_STATE = "state.json"
CHECKPOINT_SHARE = 0.05  # checkpoints take at most about this share of the training time


class TrainingPaused(ModelStoreError):
    """The callback asked to stop after the epoch's checkpoint (e.g. the worker got SIGTERM)."""


@dataclass(frozen=True)
class Progress:
    epoch: int  # 1-based
    epochs: int
    step: int  # 1-based within the epoch
    steps: int
    loss: float  # running mean training loss this epoch (nats/char)
    heldout_loss: float | None  # last measured held-out loss
    chars_per_sec: float
    eta_seconds: float | None
    elapsed: float


@dataclass(frozen=True)
class EpochEnd:
    epoch: int
    epochs: int
    loss: float
    heldout_loss: float
    best_heldout_loss: float
    improved: bool
    sample: str
    sample_seed: str
    seconds: float  # the whole epoch: steps + after_seconds
    step_seconds: float = 0.0  # the optimiser steps
    after_seconds: float = 0.0  # held-out check, sample and checkpoint


class TrainingCallback:
    """Override what you need. ``should_stop`` is polled every step (cancel now);
    ``should_pause`` after each epoch (checkpoint, then stop, resumable)."""

    def on_start(self, info: dict[str, Any]) -> None: ...

    def on_progress(self, progress: Progress) -> None: ...

    def on_epoch_end(self, result: EpochEnd) -> None: ...

    def should_stop(self) -> bool:
        return False

    def should_pause(self) -> bool:
        return False


@dataclass
class TrainResult:
    artifact: ModelArtifact
    history: list[dict[str, float]] = field(default_factory=list)
    stopped: str = "epochs"  # epochs | early_stopping | time_budget


# ---------------------------------------------------------------------------- the outline


def train(
    text: str,
    name: str,
    *,
    network: NetworkConfig | None = None,
    config: TrainConfig | None = None,
    base: ModelArtifact | None = None,
    callback: TrainingCallback | None = None,
    checkpoint_dir: str | Path | None = None,
    corpus_name: str | None = None,
) -> TrainResult:
    """Train a new model on ``text`` (or fine-tune ``base`` on it) and return its artifact.

    ``network`` gives the size of a new model (its ``vocab_size`` is replaced by the corpus's);
    it is ignored when fine-tuning, which keeps the base's architecture.
    """
    config = config or TrainConfig()
    keras.utils.set_random_seed(config.seed)
    callback = callback or TrainingCallback()
    data = prepare(text, network, config, base, stop=callback.should_stop)
    _stop_if_asked(callback, name)  # before building (or loading) the model
    run = start(name, data, config, base, callback, checkpoint_dir)
    _stop_if_asked(callback, name)
    stopped = train_epochs(run)
    run.state.seconds = run.clock.total()
    return finish(run, base, stopped, text, corpus_name)


def _stop_if_asked(callback: TrainingCallback, name: str) -> None:
    if callback.should_stop():
        raise TrainingCancelled(f"training of '{name}' was cancelled")


# ---------------------------------------------------------------------------- 1. prepare


@dataclass(frozen=True)
class Data:
    """The text, encoded, and the network and batch shape that fit it."""

    charset: Charset
    network: NetworkConfig
    base_weights: dict[str, np.ndarray] | None  # the base's, grown to the new charset
    train_ids: np.ndarray
    heldout_ids: np.ndarray
    heldout_text: str
    seq_len: int
    batch_size: int


def prepare(
    text: str,
    network: NetworkConfig | None,
    config: TrainConfig,
    base: ModelArtifact | None,
    *,
    stop: Stop = None,
) -> Data:
    """The charset, the encoded text and the batch shape; ``stop()`` is asked between slices
    of the encoding (:class:`TrainingCancelled`), so a cancel waits for no whole big text."""
    distinct = set(text)
    if len(distinct) < 2:
        shown = repr(next(iter(distinct))) if distinct else "none"
        raise CorpusError(
            f"the text has only one distinct character ({shown}): there is nothing to learn",
            "one_char",
            char=shown,
        )
    if base is not None:
        charset = base.charset.extend(text)
        cfg = NetworkConfig.from_dict({**base.config.to_dict(), "vocab_size": len(charset)})
        rng = np.random.default_rng(config.seed)
        base_weights = grow_vocabulary(base.weights, len(charset), rng)
    else:
        charset = Charset.from_text(text)
        proto = network or NetworkConfig(vocab_size=len(charset))
        cfg = NetworkConfig.from_dict({**proto.to_dict(), "vocab_size": len(charset)})
        base_weights = None
    train_text, heldout_text = split_heldout(text)
    train_ids = charset.ids(train_text, stop)
    heldout_ids = charset.ids(heldout_text, stop)
    seq_len = min(config.seq_len, max(8, len(train_ids) // 8))
    n_seq = (len(train_ids) - 1 - seq_len) // seq_len
    if n_seq < 1 or len(heldout_ids) < 20:
        raise CorpusError(
            f"the text is too short to train on ({len(text)} characters)",
            "too_short_to_split",
            chars=len(text),
        )
    batch_size = min(config.batch_size, n_seq)
    return Data(
        charset, cfg, base_weights, train_ids, heldout_ids, heldout_text, seq_len, batch_size
    )


class Batches:
    """Batch ``k`` of a run: pass ``k // per_pass`` over the training text, cut into sequences
    at an offset drawn for that pass and dealt in a shuffled order. It depends only on the seed
    and ``k``, so a resumed run gets the batches it would have had."""

    def __init__(self, ids: np.ndarray, seq_len: int, batch_size: int, seed: int):
        self.ids, self.seq_len, self.batch_size, self.seed = ids, seq_len, batch_size, seed
        self.per_pass = ((len(ids) - 1 - seq_len) // seq_len) // batch_size
        self._cut: tuple[int, np.ndarray, np.ndarray, np.ndarray] | None = None

    def get(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        number, i = divmod(k, self.per_pass)
        if self._cut is None or self._cut[0] != number:
            self._cut = (number, *self._cut_pass(number))
        _, x, y, order = self._cut
        rows = order[i * self.batch_size : (i + 1) * self.batch_size]
        return x[rows], y[rows]

    def _cut_pass(self, number: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rng = np.random.default_rng([self.seed, number + 1])
        offset = int(rng.integers(0, self.seq_len))
        n = (len(self.ids) - 1 - offset) // self.seq_len
        span = n * self.seq_len
        x = self.ids[offset : offset + span].reshape(n, self.seq_len)
        y = self.ids[offset + 1 : offset + 1 + span].reshape(n, self.seq_len)
        return x, y, rng.permutation(n)


# ---------------------------------------------------------------------------- 2. start


@dataclass
class RunState:
    """What changes as training goes on; all of it is checkpointed."""

    learning_rate: float
    epoch: int = 0  # epochs finished
    step: int = 0  # optimiser steps done
    history: list[dict[str, float]] = field(default_factory=list)
    best_loss: float = math.inf
    best_weights: dict[str, np.ndarray] | None = None
    stale: int = 0  # epochs since the held-out loss last improved
    seconds: float = 0.0  # training seconds of earlier (resumed) runs


@dataclass(frozen=True)
class Plan:
    """The fixed facts of one run."""

    name: str
    data: Data
    config: TrainConfig
    steps_per_epoch: int
    sample_seed: str
    base_loss: float | None  # the base model's held-out loss (fine-tuning)

    @property
    def total_steps(self) -> int:
        return self.config.epochs * self.steps_per_epoch

    @property
    def chars_per_step(self) -> int:
        return self.data.batch_size * self.data.seq_len


@dataclass
class Run:
    """One run: its plan, the live model, what changes, and the helpers of the loop."""

    plan: Plan
    model: Any
    state: RunState
    batches: Batches
    check: HeldoutCheck
    clock: Clock
    callback: TrainingCallback
    checkpoints: Checkpointer


def start(
    name: str,
    data: Data,
    config: TrainConfig,
    base: ModelArtifact | None,
    callback: TrainingCallback,
    checkpoint_dir: str | Path | None,
) -> Run:
    """Resume from the checkpoint or build the model; measure the base; tell the callback."""
    batches = Batches(data.train_ids, data.seq_len, data.batch_size, config.seed)
    base_loss = None
    if data.base_weights is not None:
        model = NumpyLSTM(data.network, data.base_weights)
        base_loss = evaluate_ids(model, data.heldout_ids, callback.should_stop)[0]
        if callback.should_stop():  # a cancel while measuring the base (long on a big text)
            raise TrainingCancelled(f"training of '{name}' was cancelled")
    plan = Plan(
        name,
        data,
        config,
        steps_per_epoch=config.steps_per_epoch or batches.per_pass,
        sample_seed=_sample_seed(data.heldout_text),
        base_loss=base_loss,
    )
    ckpt = Path(checkpoint_dir) if checkpoint_dir else None
    resumed = resume(ckpt, plan.steps_per_epoch)
    if resumed is not None:
        model, state = resumed
        log.info("resuming %s from checkpoint after epoch %d", name, state.epoch)
    else:
        rate = config.learning_rate if base is None else config.learning_rate / 2
        state = RunState(learning_rate=rate)
        model = build(data, config, rate)
    check = HeldoutCheck(model, data.heldout_ids, config.eval_chars)
    callback.on_start(
        {
            "name": name,
            "network": data.network.to_dict(),
            "steps_per_epoch": plan.steps_per_epoch,
            "epochs": config.epochs,
            "start_epoch": state.epoch + 1,
            "base_heldout_loss": base_loss,
            "uniform_loss": math.log(len(data.charset)),
            "batch_size": data.batch_size,
            "seq_len": data.seq_len,
            "heldout_check_chars": check.chars,
        }
    )
    clock = Clock(state.seconds, config.minutes)
    return Run(plan, model, state, batches, check, clock, callback, Checkpointer(ckpt))


def build(data: Data, config: TrainConfig, learning_rate: float) -> Any:
    model = build_model(data.network)
    if data.base_weights is not None:
        set_weights(model, data.network, data.base_weights)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate, clipnorm=config.clipnorm),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def resume(ckpt: Path | None, steps_per_epoch: int) -> tuple[Any, RunState] | None:
    """The model and state of the last checkpoint in ``ckpt``, if there is one."""
    if ckpt is None or not (ckpt / CHECKPOINT_STATE).exists():
        return None
    saved = json.loads((ckpt / CHECKPOINT_STATE).read_text())
    model = keras.saving.load_model(ckpt / CHECKPOINT_MODEL, safe_mode=True)
    with np.load(ckpt / CHECKPOINT_BEST, allow_pickle=False) as npz:
        best = {k: npz[k] for k in npz.files} or None
    state = RunState(
        learning_rate=saved["learning_rate"],
        epoch=saved["epoch"],
        step=saved.get("step", saved["epoch"] * steps_per_epoch),
        history=saved["history"],
        best_loss=saved["best_loss"],
        best_weights=best,
        stale=saved["stale"],
        seconds=saved["seconds"],
    )
    return model, state


class Clock:
    """Wall-clock seconds of this run plus those of the runs it resumes, and the budget."""

    def __init__(self, earlier: float, minutes: float | None):
        self.started = time.monotonic()
        self.earlier = earlier
        self.budget = minutes * 60 if minutes else None

    def total(self) -> float:
        return self.earlier + time.monotonic() - self.started

    def out_of_time(self) -> bool:
        return self.budget is not None and self.total() >= self.budget

    def left(self) -> float | None:
        return None if self.budget is None else max(0.0, self.budget - self.total())


# ---------------------------------------------------------------------------- 3-4. the epochs


def train_epochs(run: Run) -> str:
    """Epoch after epoch until the budget or early stopping (returns why it stopped), or until
    the callback pauses (:class:`TrainingPaused`) or cancels (:class:`TrainingCancelled`)."""
    plan, state = run.plan, run.state
    last_heldout = state.history[-1]["heldout_loss"] if state.history else plan.base_loss
    if state.stale >= plan.config.patience:  # resumed after it had stopped early
        return "early_stopping"
    while state.epoch < plan.config.epochs:
        started = time.monotonic()
        train_loss, out_of_time = run_epoch(run, last_heldout)
        steps_done = time.monotonic()
        state.epoch += 1
        last_heldout = run.check()
        improved = schedule(run, last_heldout)
        state.history.append(
            {
                "epoch": state.epoch,
                "step": state.step,
                "loss": train_loss,
                "heldout_loss": last_heldout,
            }
        )
        text = sample(run, improved)
        stopped = why_stop(run, out_of_time)
        pausing = stopped is None and run.callback.should_pause()
        if stopped or pausing or run.checkpoints.due():
            state.seconds = run.clock.total()
            run.checkpoints.save(run.model, state)
        now = time.monotonic()
        run.callback.on_epoch_end(
            EpochEnd(
                state.epoch,
                plan.config.epochs,
                train_loss,
                last_heldout,
                state.best_loss,
                improved,
                text,
                plan.sample_seed,
                seconds=now - started,
                step_seconds=steps_done - started,
                after_seconds=now - steps_done,
            )
        )
        if pausing:
            raise TrainingPaused(f"training of '{plan.name}' paused after epoch {state.epoch}")
        if stopped:
            return stopped
    return "epochs"


def run_epoch(run: Run, last_heldout: float | None) -> tuple[float, bool]:
    """One epoch of optimiser steps; returns (mean training loss, ran out of time)."""
    plan, state, clock = run.plan, run.state, run.clock
    started = time.monotonic()
    total = 0.0
    for step in range(1, plan.steps_per_epoch + 1):
        if run.callback.should_stop():
            raise TrainingCancelled(f"training of '{plan.name}' was cancelled")
        x, y = run.batches.get(state.step)
        loss = float(run.model.train_on_batch(x, y, return_dict=True)["loss"])
        if not math.isfinite(loss):
            raise TrainingDiverged(
                f"training of '{plan.name}' diverged: the loss became {loss} at step "
                f"{state.step + 1}"
            )
        state.step += 1
        total += loss
        elapsed = time.monotonic() - started
        eta = (plan.total_steps - state.step) * elapsed / step
        left = clock.left()
        run.callback.on_progress(
            Progress(
                state.epoch + 1,
                plan.config.epochs,
                step,
                plan.steps_per_epoch,
                total / step,
                last_heldout,
                step * plan.chars_per_step / elapsed,
                eta if left is None else min(eta, left),
                clock.total(),
            )
        )
        if clock.out_of_time():
            return total / step, True
    return total / plan.steps_per_epoch, False


class HeldoutCheck:
    """The live model's held-out loss, computed by the Keras backend on the training device:
    the numpy evaluator's pieces (each read from a zero state), batched into one compiled call.
    With ``max_chars`` it reads evenly spaced pieces totalling at most that many characters."""

    def __init__(self, model: Any, ids: np.ndarray, max_chars: int | None):
        grid = piece_grid(ids, max_chars)
        self.model = model
        self.x, self.y = grid[:, :-1], grid[:, 1:]
        self.chars = int(self.y.size)

    def __call__(self) -> float:
        return float(self.model.test_on_batch(self.x, self.y, return_dict=True)["loss"])


def schedule(run: Run, heldout: float) -> bool:
    """Keep the best weights; halve the learning rate when the held-out loss did not improve.
    Returns whether it improved."""
    state = run.state
    improved = heldout < state.best_loss - 1e-4
    if improved:
        state.best_loss, state.stale = heldout, 0
        state.best_weights = get_weights(run.model, run.plan.data.network)
    else:
        state.stale += 1
        state.learning_rate /= 2
        run.model.optimizer.learning_rate.assign(state.learning_rate)
    return improved


def why_stop(run: Run, out_of_time: bool) -> str | None:
    if out_of_time:
        return "time_budget"
    if run.state.stale >= run.plan.config.patience:
        return "early_stopping"
    if run.state.epoch >= run.plan.config.epochs:
        return "epochs"
    return None


def sample(run: Run, improved: bool) -> str:
    """A short continuation of the held-out seed (numpy, on the CPU)."""
    plan = run.plan
    weights = run.state.best_weights if improved else None
    if weights is None:
        weights = get_weights(run.model, plan.data.network)
    artifact = ModelArtifact(plan.name, plan.data.network, plan.data.charset, weights)
    options = SampleOptions(
        temperature=plan.config.sample_temperature,
        length=plan.config.sample_length,
        rng_seed=run.state.epoch,
    )
    return Generator(artifact).generate(plan.sample_seed, options)[0]


class Checkpointer:
    """Saves the model (with optimizer state), the best weights and the run state.

    A save is due when the time since the last one is at least ``1 / CHECKPOINT_SHARE`` times
    what the last one took, so checkpoints cost about 5% of the time at most (on a fast GPU a
    big model is not saved after every short epoch); before pausing and at the end it is
    always saved."""

    def __init__(self, ckpt: Path | None):
        self.ckpt = ckpt
        self.last_at = time.monotonic()
        self.cost = 0.0

    def due(self) -> bool:
        return time.monotonic() - self.last_at >= self.cost / CHECKPOINT_SHARE

    def save(self, model: Any, state: RunState) -> None:
        if self.ckpt is None:
            return
        started = time.monotonic()
        ckpt = self.ckpt
        ckpt.mkdir(parents=True, exist_ok=True)
        tmp_model = ckpt / ("tmp-" + CHECKPOINT_MODEL)
        model.save(tmp_model)
        os.replace(tmp_model, ckpt / CHECKPOINT_MODEL)
        with open(ckpt / (CHECKPOINT_BEST + ".tmp"), "wb") as fh:
            np.savez(fh, **(state.best_weights or {}))
        os.replace(ckpt / (CHECKPOINT_BEST + ".tmp"), ckpt / CHECKPOINT_BEST)
        saved = {
            "epoch": state.epoch,
            "step": state.step,
            "history": state.history,
            "best_loss": state.best_loss,
            "stale": state.stale,
            "learning_rate": state.learning_rate,
            "seconds": state.seconds,
        }
        _atomic_write(ckpt / CHECKPOINT_STATE, json.dumps(saved).encode())
        self.last_at = time.monotonic()
        self.cost = self.last_at - started


# ---------------------------------------------------------------------------- 5. finish


def finish(
    run: Run, base: ModelArtifact | None, stopped: str, text: str, corpus_name: str | None
) -> TrainResult:
    """The best weights as they will be stored, their held-out loss (numpy, all of the
    held-out text) and the model card."""
    plan, state = run.plan, run.state
    assert state.best_weights is not None
    data = plan.data
    weights = storage_rounded(state.best_weights)
    loss = evaluate_ids(NumpyLSTM(data.network, weights), data.heldout_ids)[0]
    train_chars = len(text) - len(data.heldout_text)
    card = {
        "base_model": base.name if base is not None else None,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "corpus": {
            "name": corpus_name,
            "chars": len(text),
            "train_chars": train_chars,
            "heldout_chars": len(data.heldout_text),
            "vocab_size": len(data.charset),
            "new_chars": (len(data.charset) - len(base.charset)) if base is not None else None,
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
        },
        "training": {
            **asdict(plan.config),
            "seq_len": data.seq_len,
            "batch_size": data.batch_size,
            "steps_per_epoch": plan.steps_per_epoch,
            "epochs_run": state.epoch,
            "steps_run": state.step,
            "passes": round(state.step * plan.chars_per_step / max(1, train_chars), 2),
            "heldout_check_chars": run.check.chars,
            "stopped": stopped,
            "device": training_device().description,
        },
        "heldout_loss_nats": round(loss, 4),
        "heldout_loss_bits": round(loss / math.log(2), 4),
        "base_heldout_loss_nats": None if plan.base_loss is None else round(plan.base_loss, 4),
        "uniform_loss_nats": round(math.log(len(data.charset)), 4),
        "history": state.history,
        "training_seconds": round(state.seconds, 1),
        "versions": library_versions(),
    }
    artifact = ModelArtifact(plan.name, data.network, data.charset, weights, card)
    return TrainResult(artifact, state.history, stopped)


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    versions["keras"] = keras.__version__
    versions["backend"] = keras.backend.backend()
    if versions["backend"] == "tensorflow":
        import tensorflow as tf

        versions["tensorflow"] = tf.__version__
    elif versions["backend"] == "jax":
        import jax

        versions["jax"] = jax.__version__
    return versions


def _sample_seed(heldout: str) -> str:
    start = heldout.find(" ") + 1
    seed = heldout[start : start + 40]
    cut = seed.rfind(" ")
    return seed[: cut + 1] if cut > 10 else seed


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)

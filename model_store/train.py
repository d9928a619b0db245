"""Training and fine-tuning (Keras 3), many-to-many next-character prediction.

The integer-encoded corpus is cut into sequences of ``seq_len`` characters (a new random
offset each epoch) and every position is a target. The last 10% of the text is held out;
after each epoch the held-out loss is measured with the numpy evaluator (the same number the
model card and ``lstm-bot evaluate`` report), the learning rate is halved when it does not
improve, and training stops early after ``patience`` epochs without improvement, keeping the
best weights.

A :class:`TrainingCallback` receives progress and can cancel. With a ``checkpoint_dir`` each
epoch is checkpointed (model with optimizer state, plus the best weights and the history) and a
later call with the same directory resumes after the last finished epoch.
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
from .charset import Charset
from .config import NetworkConfig, TrainConfig
from .corpus import split_heldout
from .errors import CorpusError, ModelStoreError
from .evaluate import evaluate_ids
from .lstm import NumpyLSTM
from .network import build_model, get_weights, grow_vocabulary, keras, set_weights
from .sampling import Generator, SampleOptions

log = logging.getLogger(__name__)

CHECKPOINT_MODEL = "checkpoint.keras"
CHECKPOINT_BEST = "best.npz"
CHECKPOINT_STATE = "state.json"


class TrainingCancelled(ModelStoreError):
    """The callback asked training to stop."""


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
    seconds: float


class TrainingPaused(ModelStoreError):
    """The callback asked to stop after the epoch's checkpoint (e.g. the worker got SIGTERM)."""


class TrainingCallback:
    """Override what you need. ``should_stop`` is polled every step (cancel now);
    ``should_pause`` after each epoch's checkpoint (stop, resumable from the checkpoint)."""

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


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    versions["keras"] = keras.__version__
    versions["backend"] = keras.backend.backend()
    if versions["backend"] == "tensorflow":
        import tensorflow as tf

        versions["tensorflow"] = tf.__version__
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
    callback = callback or TrainingCallback()
    started = time.monotonic()
    keras.utils.set_random_seed(config.seed)
    rng = np.random.default_rng(config.seed)

    if base is not None:
        charset = base.charset.extend(text)
        cfg = NetworkConfig.from_dict({**base.config.to_dict(), "vocab_size": len(charset)})
        init_weights = grow_vocabulary(base.weights, len(charset), rng)
    else:
        charset = Charset.from_text(text)
        proto = network or NetworkConfig(vocab_size=len(charset))
        cfg = NetworkConfig.from_dict({**proto.to_dict(), "vocab_size": len(charset)})
        init_weights = None

    train_text, heldout_text = split_heldout(text)
    train_ids = charset.encode(train_text).ids
    heldout_ids = charset.encode(heldout_text).ids
    seq_len = min(config.seq_len, max(8, len(train_ids) // 8))
    n_seq = (len(train_ids) - 1 - seq_len) // seq_len
    if n_seq < 1 or len(heldout_ids) < 20:
        raise CorpusError(f"the text is too short to train on ({len(text)} characters)")
    batch_size = min(config.batch_size, n_seq)
    steps = n_seq // batch_size

    ckpt = Path(checkpoint_dir) if checkpoint_dir else None
    history: list[dict[str, float]] = []
    start_epoch = 1
    best_loss = math.inf
    best_weights: dict[str, np.ndarray] | None = None
    lr = config.learning_rate if base is None else config.learning_rate / 2
    stale = 0
    spent = 0.0  # training seconds of earlier (resumed) runs
    model = None
    if ckpt and (ckpt / CHECKPOINT_STATE).exists():
        state = json.loads((ckpt / CHECKPOINT_STATE).read_text())
        model = keras.saving.load_model(ckpt / CHECKPOINT_MODEL)
        with np.load(ckpt / CHECKPOINT_BEST) as npz:
            best_weights = {k: npz[k] for k in npz.files}
        history, best_loss, stale = state["history"], state["best_loss"], state["stale"]
        lr, spent, start_epoch = state["learning_rate"], state["seconds"], state["epoch"] + 1
        log.info("resuming %s from checkpoint after epoch %d", name, state["epoch"])
    if model is None:
        model = build_model(cfg)
        if init_weights is not None:
            set_weights(model, cfg, init_weights)
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=lr, clipnorm=config.clipnorm),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )

    def heldout_loss() -> float:
        return evaluate_ids(NumpyLSTM(cfg, get_weights(model, cfg)), heldout_ids)[0]

    base_loss = None
    if base is not None:
        base_loss = evaluate_ids(NumpyLSTM(cfg, init_weights), heldout_ids)[0]
    sample_seed = _sample_seed(heldout_text)
    callback.on_start(
        {
            "name": name,
            "network": cfg.to_dict(),
            "steps_per_epoch": steps,
            "epochs": config.epochs,
            "start_epoch": start_epoch,
            "base_heldout_loss": base_loss,
        }
    )
    stopped = "epochs"
    last_heldout = history[-1]["heldout_loss"] if history else base_loss
    chars_per_step = batch_size * seq_len
    budget = config.minutes * 60 if config.minutes else None
    epoch = start_epoch - 1
    for epoch in range(start_epoch, config.epochs + 1):
        epoch_start = time.monotonic()
        erng = np.random.default_rng([config.seed, epoch])
        offset = int(erng.integers(0, seq_len))
        n = (len(train_ids) - 1 - offset) // seq_len
        span = n * seq_len
        x = train_ids[offset : offset + span].reshape(n, seq_len)
        y = train_ids[offset + 1 : offset + 1 + span].reshape(n, seq_len)
        order = erng.permutation(n)
        total = 0.0
        out_of_time = False
        for step in range(1, steps + 1):
            if callback.should_stop():
                raise TrainingCancelled(f"training of '{name}' was cancelled")
            idx = order[(step - 1) * batch_size : step * batch_size]
            metrics = model.train_on_batch(x[idx], y[idx], return_dict=True)
            total += float(metrics["loss"])
            elapsed = time.monotonic() - epoch_start
            rate = step * chars_per_step / elapsed
            remaining = (steps - step + (config.epochs - epoch) * steps) * elapsed / step
            run_time = spent + time.monotonic() - started
            if budget is not None:
                remaining = min(remaining, max(0.0, budget - run_time))
            callback.on_progress(
                Progress(
                    epoch,
                    config.epochs,
                    step,
                    steps,
                    total / step,
                    last_heldout,
                    rate,
                    remaining,
                    run_time,
                )
            )
            if budget is not None and run_time >= budget:
                out_of_time = True
                break
        train_loss = total / max(1, step)
        last_heldout = heldout_loss()
        improved = last_heldout < best_loss - 1e-4
        if improved:
            best_loss, best_weights, stale = last_heldout, get_weights(model, cfg), 0
        else:
            stale += 1
            lr = lr / 2
            model.optimizer.learning_rate.assign(lr)
        history.append({"epoch": epoch, "loss": train_loss, "heldout_loss": last_heldout})
        sample_opts = SampleOptions(
            temperature=config.sample_temperature, length=config.sample_length, rng_seed=epoch
        )
        art = ModelArtifact(name, cfg, charset, get_weights(model, cfg))
        sample = Generator(art).generate(sample_seed, sample_opts)[0]
        seconds = time.monotonic() - epoch_start
        if ckpt:
            _save_checkpoint(
                ckpt,
                model,
                best_weights,
                history,
                best_loss,
                stale,
                lr,
                epoch,
                spent + time.monotonic() - started,
            )
        callback.on_epoch_end(
            EpochEnd(
                epoch,
                config.epochs,
                train_loss,
                last_heldout,
                best_loss,
                improved,
                sample,
                sample_seed,
                seconds,
            )
        )
        if out_of_time:
            stopped = "time_budget"
            break
        if stale >= config.patience:
            stopped = "early_stopping"
            break
        if epoch < config.epochs and callback.should_pause():
            raise TrainingPaused(f"training of '{name}' paused after epoch {epoch}")

    assert best_weights is not None
    best_weights = storage_rounded(best_weights)  # what the saved model will hold
    best_loss = evaluate_ids(NumpyLSTM(cfg, best_weights), heldout_ids)[0]
    card = {
        "base_model": base.name if base is not None else None,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "corpus": {
            "name": corpus_name,
            "chars": len(text),
            "train_chars": len(train_text),
            "heldout_chars": len(heldout_text),
            "vocab_size": len(charset),
            "new_chars": (len(charset) - len(base.charset)) if base is not None else None,
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
        },
        "training": {
            **asdict(config),
            "seq_len": seq_len,
            "batch_size": batch_size,
            "epochs_run": epoch,
            "stopped": stopped,
        },
        "heldout_loss_nats": round(best_loss, 4),
        "heldout_loss_bits": round(best_loss / math.log(2), 4),
        "base_heldout_loss_nats": None if base_loss is None else round(base_loss, 4),
        "history": history,
        "training_seconds": round(spent + time.monotonic() - started, 1),
        "versions": library_versions(),
    }
    artifact = ModelArtifact(name, cfg, charset, best_weights, card)
    return TrainResult(artifact, history, stopped)


def _save_checkpoint(
    ckpt: Path,
    model: Any,
    best: dict[str, np.ndarray] | None,
    history: list,
    best_loss: float,
    stale: int,
    lr: float,
    epoch: int,
    seconds: float,
) -> None:
    ckpt.mkdir(parents=True, exist_ok=True)
    tmp_model = ckpt / ("tmp-" + CHECKPOINT_MODEL)
    model.save(tmp_model)
    os.replace(tmp_model, ckpt / CHECKPOINT_MODEL)
    with open(ckpt / (CHECKPOINT_BEST + ".tmp"), "wb") as fh:
        np.savez(fh, **(best or {}))
    os.replace(ckpt / (CHECKPOINT_BEST + ".tmp"), ckpt / CHECKPOINT_BEST)
    state = {
        "epoch": epoch,
        "history": history,
        "best_loss": best_loss,
        "stale": stale,
        "learning_rate": lr,
        "seconds": seconds,
    }
    _atomic_write(ckpt / CHECKPOINT_STATE, json.dumps(state).encode())

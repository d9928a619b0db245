"""Training speed to a held-out loss: the classic Keras example's recipe against lstm-bot's.

Both train on the first 90% of the corpus (original case) on the CPU with one TensorFlow
intra-op thread, and both are scored on the last 10%:

(1) classic: the keras-io "Character-level text generation with LSTM" recipe: one-hot
    40-character windows taken every 3 characters, Sequential LSTM(128) -> Dense(softmax),
    RMSprop(0.01), categorical cross-entropy, batch 128, epoch after epoch. Its held-out loss
    is the next-character loss after each of a fixed, evenly spaced set of held-out 40-character
    windows, measured every ``--classic-eval-seconds`` of training.
(2) lstm-bot: ``model_store.train.train`` of a model of the same size (1 x LSTM(128), small
    embedding, no dropout). Its held-out loss is train()'s own check after each epoch (the
    Keras backend over the numpy evaluator's pieces: stateful, over the whole held-out text;
    within 0.01 of the numpy evaluator); the same 40-character-window measure as (1) is
    printed beside it.

Wall seconds count training only: the benchmark's own evaluations are subtracted, while
train()'s epoch-end evaluation and sample are part of lstm-bot's time. Each run stops when it
reaches the target (or with ``--full`` at its cap).

Usage: .venv/bin/python benchmarks/training.py [--corpus PATH] [--classic-max-seconds 600]
       [--lstm-bot-max-seconds 300]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, field

import _common

_common.pin_blas_threads(1)  # numpy's BLAS, before numpy is imported

from model_store.backend import configure  # noqa: E402

configure(threads=1)  # one TensorFlow intra-op thread, before keras is imported

import keras  # noqa: E402
import numpy as np  # noqa: E402

import model_store.train as ms_train  # noqa: E402
from model_store import Charset, NetworkConfig, TrainConfig  # noqa: E402
from model_store.corpus import split_heldout  # noqa: E402
from model_store.evaluate import evaluate_ids  # noqa: E402
from model_store.lstm import NumpyLSTM  # noqa: E402
from model_store.network import get_weights  # noqa: E402

TARGET = 1.60
TARGET_RATIO = 3.0
MAXLEN = 40  # the classic example's window
STEP = 3  # ... and its stride


@dataclass
class Point:
    seconds: float
    epoch: float
    loss: float  # the run's headline held-out measure
    window_loss: float | None = None  # 40-char-window measure (lstm-bot only)
    note: str = ""
    between_epochs: float = 0.0  # of ``seconds``, spent between epochs (classic only)


@dataclass
class Run:
    name: str
    points: list[Point] = field(default_factory=list)
    seconds_per_epoch: float | None = None
    stopped: str = ""


def crossing(
    points: list[Point], target: float, attr: str = "loss", lean: bool = False
) -> tuple[float, float, float] | None:
    """(first measured seconds <= target, its epoch, linearly interpolated seconds) or None.

    ``lean``: count seconds without the pauses between epochs."""

    def secs(p: Point) -> float:
        return p.seconds - p.between_epochs if lean else p.seconds

    prev = None
    for p in points:
        value = getattr(p, attr)
        if value is None:
            continue
        if value <= target:
            interp = secs(p)
            if prev is not None:
                pv = getattr(prev, attr)
                frac = (pv - target) / (pv - value) if pv > value else 1.0
                interp = secs(prev) + frac * (secs(p) - secs(prev))
            return secs(p), p.epoch, interp
        prev = p
    return None


def window_starts(n_ids: int, count: int) -> np.ndarray:
    """Evenly spaced starts of (MAXLEN + 1)-character held-out windows."""
    last = n_ids - MAXLEN - 1
    return np.unique(np.linspace(0, last, min(count, last + 1)).astype(np.int64))


def window_loss_numpy(model: NumpyLSTM, windows: np.ndarray) -> float:
    """Next-character loss after each MAXLEN window (zero state), as the classic is scored."""
    state = model.initial_state(len(windows))
    logits = None
    for t in range(MAXLEN):
        logits, state = model.step(windows[:, t], state)
    z = logits.astype(np.float64)
    zmax = z.max(axis=1)
    lse = zmax + np.log(np.exp(z - zmax[:, None]).sum(axis=1))
    return float(np.mean(lse - z[np.arange(len(windows)), windows[:, MAXLEN]]))


# ------------------------------------------------------------------------- (1) classic
class ClassicClock(keras.callbacks.Callback):
    """Evaluates on the held-out windows every ``every`` training seconds; stops the run."""

    def __init__(
        self,
        x_eval: np.ndarray,
        y_eval: np.ndarray,
        every: float,
        cap: float,
        target: float,
        full: bool,
        steps: int,
    ) -> None:
        super().__init__()
        self.x_eval, self.y_eval = x_eval, y_eval
        self.every, self.cap, self.target, self.full, self.steps = every, cap, target, full, steps
        self.run = Run("classic")
        self.eval_time = 0.0
        self.start = 0.0
        self.epoch = 0
        self.batches = 0  # batches finished in the current epoch
        self.epoch_end_at: float | None = None
        self.between_epochs = 0.0  # from the end of an epoch to the next epoch's first batch
        self.last_eval = -math.inf

    def clock(self) -> float:
        return time.monotonic() - self.start - self.eval_time

    def evaluate(self, epoch: float, note: str = "") -> float:
        seconds = self.clock()
        t0 = time.monotonic()
        probs = self.model.predict(self.x_eval, batch_size=500, verbose=0)
        p = probs[np.arange(len(self.y_eval)), self.y_eval].astype(np.float64)
        loss = float(-np.mean(np.log(np.maximum(p, 1e-12))))
        self.run.points.append(
            Point(seconds, epoch, loss, note=note, between_epochs=self.between_epochs)
        )
        print(f"  {seconds:7.1f} s  epoch {epoch:5.2f}  held-out {loss:.3f}", flush=True)
        self.eval_time += time.monotonic() - t0
        self.last_eval = seconds
        return loss

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.start = time.monotonic()
        self.evaluate(0.0, "untrained")
        self.eval_time = 0.0  # the clock starts at the first training step

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        if self.epoch_end_at is not None:
            self.between_epochs += self.clock() - self.epoch_end_at
            self.epoch_end_at = None

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.batches = batch + 1
        now = self.clock()
        if now - self.last_eval < self.every and now < self.cap:
            return
        epoch = self.epoch + (batch + 1) / self.steps
        loss = self.evaluate(epoch)
        if now >= self.cap:
            self.run.stopped = f"cap of {self.cap:.0f} s"
            self.model.stop_training = True
        elif loss <= self.target and not self.full:
            self.run.stopped = f"reached {self.target}"
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch_end_at = self.clock()
        if epoch == 0 and self.batches == self.steps:
            self.run.seconds_per_epoch = self.clock()


def run_classic(text: str, args: argparse.Namespace) -> Run:
    train_text, heldout = split_heldout(text)
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    vocab = len(chars)
    train_ids = np.array([index[c] for c in train_text], dtype=np.int64)
    held_ids = np.array([index[c] for c in heldout], dtype=np.int64)

    # The example's vectorisation, vectorised: x[i, t, char] = 1 for each 40-char window.
    starts = np.arange(0, len(train_ids) - MAXLEN, STEP)
    windows = train_ids[starts[:, None] + np.arange(MAXLEN)[None, :]]
    x = np.zeros((len(starts), MAXLEN, vocab), dtype=bool)
    x[np.arange(len(starts))[:, None], np.arange(MAXLEN)[None, :], windows] = True
    y = np.zeros((len(starts), vocab), dtype=bool)
    y[np.arange(len(starts)), train_ids[starts + MAXLEN]] = True
    del windows

    eval_starts = window_starts(len(held_ids), args.eval_windows)
    eval_windows = held_ids[eval_starts[:, None] + np.arange(MAXLEN + 1)[None, :]]
    x_eval = np.zeros((len(eval_starts), MAXLEN, vocab), dtype=bool)
    x_eval[
        np.arange(len(eval_starts))[:, None], np.arange(MAXLEN)[None, :], eval_windows[:, :MAXLEN]
    ] = True
    y_eval = eval_windows[:, MAXLEN]

    keras.utils.set_random_seed(args.seed)
    model = keras.Sequential(
        [
            keras.Input(shape=(MAXLEN, vocab)),
            keras.layers.LSTM(128),
            keras.layers.Dense(vocab, activation="softmax"),
        ]
    )
    model.compile(
        loss="categorical_crossentropy", optimizer=keras.optimizers.RMSprop(learning_rate=0.01)
    )
    batch = 128
    steps = math.ceil(len(x) / batch)
    print(
        f"(1) classic recipe: {len(x):,} one-hot windows of {MAXLEN} (stride {STEP}) x "
        f"{vocab} chars = {(x.nbytes + y.nbytes) / 2**20:.0f} MiB; LSTM(128) -> Dense softmax, "
        f"RMSprop(0.01), batch {batch}, {steps} steps/epoch; {model.count_params():,} params"
    )
    print(
        f"  held-out: next-char loss after {len(eval_starts):,} evenly spaced 40-char windows, "
        f"every ~{args.classic_eval_seconds:.0f} s of training; cap {args.classic_max_seconds} s"
    )
    clock = ClassicClock(
        x_eval,
        y_eval,
        args.classic_eval_seconds,
        args.classic_max_seconds,
        args.target,
        args.full,
        steps,
    )
    model.fit(x, y, batch_size=batch, epochs=1000, verbose=0, callbacks=[clock])
    return clock.run


# ------------------------------------------------------------------------- (2) lstm-bot
class LstmBotClock(ms_train.TrainingCallback):
    def __init__(
        self,
        args: argparse.Namespace,
        cfg_holder: dict,
        heldout_ids: np.ndarray,
        windows: np.ndarray,
    ) -> None:
        self.args = args
        self.holder = cfg_holder  # filled by the build_model shim: the live Keras model
        self.heldout_ids, self.windows = heldout_ids, windows
        self.run = Run("lstm-bot")
        self.start = time.monotonic()
        self.eval_time = 0.0
        self.last_eval = 0.0
        self.reached = False
        self.epoch = 0.0  # training progress in epochs, from on_progress

    def clock(self) -> float:
        return time.monotonic() - self.start - self.eval_time

    def live_numpy(self) -> NumpyLSTM:
        cfg = self.holder["cfg"]
        return NumpyLSTM(cfg, get_weights(self.holder["model"], cfg))

    def record(self, seconds: float, epoch: float, official: float | None, note: str = "") -> None:
        t0 = time.monotonic()
        model = self.live_numpy()
        if official is None:
            official = evaluate_ids(model, self.heldout_ids)[0]
        window = window_loss_numpy(model, self.windows)
        self.run.points.append(Point(seconds, epoch, official, window, note))
        print(
            f"  {seconds:7.1f} s  epoch {epoch:5.2f}  held-out {official:.3f} "
            f"(40-char windows {window:.3f})" + (f" {note}" if note else ""),
            flush=True,
        )
        self.reached = official <= self.args.target and window <= self.args.target
        self.eval_time += time.monotonic() - t0
        self.last_eval = seconds

    def on_start(self, info: dict) -> None:
        self.record(0.0, 0.0, None, "untrained")
        self.start = time.monotonic()  # the clock starts at the first training step
        self.eval_time = 0.0
        self.last_eval = 0.0

    def on_progress(self, p: ms_train.Progress) -> None:
        every = self.args.lstm_bot_eval_seconds
        now = self.clock()
        self.epoch = p.epoch - 1 + p.step / p.steps
        if every and p.step < p.steps and now - self.last_eval >= every:
            self.record(now, self.epoch, None, "(mid-epoch, benchmark)")

    def on_epoch_end(self, r: ms_train.EpochEnd) -> None:
        now = self.clock()
        if r.epoch == 1:
            self.run.seconds_per_epoch = now
        self.record(now, float(r.epoch), r.heldout_loss)

    def should_stop(self) -> bool:
        now = self.clock()
        if now >= self.args.lstm_bot_max_seconds:
            if now > self.last_eval:
                self.record(now, self.epoch, None, "(at the cap, benchmark)")
            self.run.stopped = f"cap of {self.args.lstm_bot_max_seconds:.0f} s"
            return True
        if self.reached and not self.args.full:
            self.run.stopped = f"reached {self.args.target}"
            return True
        return False


def run_lstm_bot(text: str, args: argparse.Namespace) -> Run:
    charset = Charset.from_text(text)
    _train, heldout = split_heldout(text)
    heldout_ids = charset.encode(heldout).ids
    starts = window_starts(len(heldout_ids), args.eval_windows)
    windows = heldout_ids[starts[:, None] + np.arange(MAXLEN + 1)[None, :]]
    network = NetworkConfig(
        vocab_size=len(charset), embedding_dim=args.embedding, units=128, layers=1, dropout=0.0
    )
    config = TrainConfig(
        seq_len=args.seq_len,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        epochs=1000,
        patience=1000,
        seed=args.seed,
        minutes=2 * args.lstm_bot_max_seconds / 60,
    )
    print(
        f"(2) lstm-bot model_store.train.train: Embedding({len(charset)}, {args.embedding}) -> "
        f"LSTM(128) -> Dense logits, dropout 0; seq_len {config.seq_len}, batch "
        f"{config.batch_size}, Adam lr {config.learning_rate} (clipnorm {config.clipnorm}, "
        f"halved when held-out loss does not improve); cap {args.lstm_bot_max_seconds} s"
    )
    print(
        "  held-out: train()'s check after each epoch (stateful over the held-out text, on the "
        "Keras backend); in parentheses the classic's 40-char-window measure on the same "
        f"{len(starts):,} windows"
    )

    # train() gives its callback no handle on the model; capture it where train() builds it
    # (benchmark-only shim) to measure the 40-char-window loss and optional mid-epoch points.
    holder: dict = {}
    build_model = ms_train.build_model

    def capturing_build_model(cfg: NetworkConfig, seq_len: int | None = None) -> keras.Model:
        model = build_model(cfg, seq_len)
        holder.update(model=model, cfg=cfg)
        return model

    ms_train.build_model = capturing_build_model
    clock = LstmBotClock(args, holder, heldout_ids, windows)
    try:
        result = ms_train.train(text, "bench", network=network, config=config, callback=clock)
        clock.run.stopped = clock.run.stopped or result.stopped
    except ms_train.TrainingCancelled:
        pass
    finally:
        ms_train.build_model = build_model
    return clock.run


# ------------------------------------------------------------------------- report
def report(run: Run, target: float, window_column: bool) -> tuple[float, float, float] | None:
    print(
        f"  {run.name}: stopped ({run.stopped or 'end'}); "
        + (
            f"{run.seconds_per_epoch:.1f} s for the first epoch"
            if run.seconds_per_epoch
            else "first epoch not finished"
        )
    )
    gaps = any(p.between_epochs >= 1.0 for p in run.points)
    head = "    wall s    epoch   held-out nats/char"
    if window_column:
        head += "   40-char windows"
    if gaps:
        head += "   of the wall s: between epochs"
    print(head)
    for p in run.points:
        line = f"    {p.seconds:6.1f}   {p.epoch:6.2f}   {p.loss:8.3f}"
        if window_column:
            line += f"            {p.window_loss:8.3f}" if p.window_loss is not None else ""
        if gaps:
            line += f"              {p.between_epochs:6.1f}"
        print(line + (f"   {p.note}" if p.note else ""))
    hit = crossing(run.points, target)
    if hit:
        print(
            f"  time to <= {target}: {hit[0]:.1f} s (first measured point, epoch "
            f"{hit[1]:.2f}); {hit[2]:.1f} s interpolated between points"
        )
        lean = crossing(run.points, target, lean=True)
        if gaps and lean:
            print(
                "  without the pauses between epochs (inside Keras fit(), from the end of one "
                f"epoch to the first batch of the next): {lean[0]:.1f} s first measured, "
                f"{lean[2]:.1f} s interpolated"
            )
    else:
        last = run.points[-1].seconds if run.points else 0.0
        print(f"  did not reach {target} within {last:.0f} s")
    if window_column:
        whit = crossing(run.points, target, "window_loss")
        if whit:
            print(
                f"  time to <= {target} on the 40-char-window measure: {whit[0]:.1f} s "
                f"({whit[2]:.1f} s interpolated)"
            )
    return hit


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=str(_common.DEFAULT_CORPUS))
    ap.add_argument("--target", type=float, default=TARGET, help="held-out nats/char")
    ap.add_argument("--classic-max-seconds", type=float, default=600.0)
    ap.add_argument("--lstm-bot-max-seconds", type=float, default=300.0)
    ap.add_argument("--classic-eval-seconds", type=float, default=30.0)
    ap.add_argument(
        "--lstm-bot-eval-seconds",
        type=float,
        default=0.0,
        help="also evaluate mid-epoch every N training seconds (0: per epoch)",
    )
    ap.add_argument("--eval-windows", type=int, default=10_000)
    ap.add_argument("--seq-len", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--learning-rate", type=float, default=1e-2)
    ap.add_argument("--embedding", type=int, default=32)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--only", choices=("classic", "lstm-bot"), help="run just one side")
    ap.add_argument("--full", action="store_true", help="train to the caps, not to the target")
    args = ap.parse_args()

    _common.header("Training benchmark: time to a held-out loss, classic recipe vs lstm-bot")
    text = _common.read_text(args.corpus)
    train_text, heldout = split_heldout(text)
    print(
        f"corpus {args.corpus}: {len(text):,} chars ({len(set(text))} distinct, original "
        f"case); train {len(train_text):,}, held-out (last 10%) {len(heldout):,}"
    )
    print(
        f"CPU, keras {keras.__version__} ({keras.backend.backend()}), 1 TF intra-op thread; "
        f"numpy BLAS: {_common.blas_threads()}"
    )
    print(f"target: held-out <= {args.target} nats/char")
    print()

    runs: dict[str, Run] = {}
    if args.only != "classic":
        runs["lstm-bot"] = run_lstm_bot(text, args)
        print()
    if args.only != "lstm-bot":
        runs["classic"] = run_classic(text, args)
        print()

    print("Results (wall seconds of training, benchmark evaluations excluded)")
    hits = {name: report(run, args.target, name == "lstm-bot") for name, run in runs.items()}
    print()
    if len(runs) == 2:
        ours, classic = hits["lstm-bot"], hits["classic"]
        if ours and classic:
            ratio, ratio_first = classic[2] / ours[2], classic[0] / ours[0]
            print(
                f"classic / lstm-bot time to {args.target}: {ratio:.1f}x interpolated "
                f"({ratio_first:.1f}x on first measured points)   "
                f"[target >= {TARGET_RATIO:.0f}x: {_common.verdict(ratio >= TARGET_RATIO)}]"
            )
            lean = crossing(runs["classic"].points, args.target, lean=True)
            if lean and lean[2] < classic[2] - 1.0:
                lean_ratio = lean[2] / ours[2]
                print(
                    f"  not counting the classic's pauses between epochs: {lean_ratio:.1f}x   "
                    f"[{_common.verdict(lean_ratio >= TARGET_RATIO)}]"
                )
        elif ours:
            bound = runs["classic"].points[-1].seconds / ours[2]
            print(
                f"classic did not reach {args.target}: ratio > {bound:.1f}x   "
                f"[target >= {TARGET_RATIO:.0f}x: "
                f"{_common.verdict(bound >= TARGET_RATIO)} (lower bound)]"
            )
        else:
            print(f"lstm-bot did not reach {args.target}: no ratio   [target: MISS]")
    print(_common.NOISE_NOTE)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Terminal progress for ``lstm-bot train``: a redrawn bar on a TTY, periodic lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from bot.formatting import duration, progress_bar
from model_store.train import EpochEnd, Progress, TrainingCallback


class ConsoleProgress(TrainingCallback):
    def __init__(self, stream: TextIO = sys.stderr, interval: float = 30.0):
        self.stream = stream
        self.tty = stream.isatty()
        self.interval = interval
        self._last = 0.0

    def on_start(self, info: dict) -> None:
        net = info["network"]
        base = info.get("base_heldout_loss")
        line = (
            f"training '{info['name']}': {net['layers']}x LSTM({net['units']}), "
            f"{net['vocab_size']} characters (uniform guess {info['uniform_loss']:.3f} nats/char),"
            f" {info['epochs']} epochs of {info['steps_per_epoch']} steps of "
            f"{info['batch_size']} x {info['seq_len']} characters"
        )
        if base is not None:
            line += f"; base model's held-out loss on this text: {base:.3f} nats/char"
        print(line, file=self.stream, flush=True)

    def on_progress(self, p: Progress) -> None:
        now = time.monotonic()
        if not self.tty and now - self._last < self.interval and p.step != 1:
            return
        self._last = now
        held = f" held-out {p.heldout_loss:.3f}" if p.heldout_loss is not None else ""
        line = (
            f"epoch {p.epoch}/{p.epochs} {progress_bar(p.step / p.steps, 24)} {p.step}/{p.steps} "
            f"loss {p.loss:.3f}{held} {p.chars_per_sec:,.0f} chars/s "
            f"ETA {duration(p.eta_seconds)}"
        )
        if self.tty:
            print("\r\033[K" + line, end="", file=self.stream, flush=True)
        else:
            print(line, file=self.stream, flush=True)

    def on_epoch_end(self, r: EpochEnd) -> None:
        mark = " (best)" if r.improved else ""
        if self.tty:
            print(file=self.stream)
        share = r.after_seconds / r.seconds if r.seconds else 0.0
        print(
            f"epoch {r.epoch}: loss {r.loss:.3f}, held-out {r.heldout_loss:.3f} nats/char{mark}, "
            f"{duration(r.seconds)} (steps {r.step_seconds:.1f} s, check + sample + checkpoint "
            f"{r.after_seconds:.2f} s = {share:.0%})",
            file=self.stream,
        )
        print(f"  sample: {r.sample_seed}|{r.sample[:160]!r}", file=self.stream, flush=True)

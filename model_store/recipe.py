"""The one training recipe: what ``lstm-bot train`` and ``/train`` (the worker) both run.

:func:`recipe` assembles it, in this order, and nothing else does:

1. the defaults of :class:`NetworkConfig` and :class:`TrainConfig` (the built-in model's);
2. the preset's network and training fields (:data:`PRESETS`, ``lstm-bot train --preset``);
3. the device's batch and held-out check size (:class:`~model_store.backend.Device`);
4. the effort: a budget of optimiser steps and a wall-clock cap sized to the text
   (:data:`EFFORTS`): a short text gets many passes over short sequences, a long one a bounded
   number of steps, and about :data:`CHECKS` held-out checks (epochs) a run;
5. the explicit options: ``epochs`` (that many passes over the text instead of the effort's
   steps), ``minutes`` (the cap; given alone, the time is the budget: epochs of the effort's
   size until it runs out or training stops early) and any network or training field.

Importing this module does not import Keras.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .backend import Device
from .config import NetworkConfig, TrainConfig
from .corpus import HELDOUT_FRACTION


@dataclass(frozen=True)
class Effort:
    passes: float  # passes over the training text to aim for ...
    min_steps: int  # ... but at least this many optimiser steps (short texts) ...
    max_steps: int  # ... and at most this many (long texts)
    minutes: float  # wall-clock cap (CPU); a GPU gets the same


EFFORTS = {
    "quick": Effort(passes=3, min_steps=100, max_steps=500, minutes=5),
    "normal": Effort(passes=10, min_steps=300, max_steps=2000, minutes=15),
    "thorough": Effort(passes=30, min_steps=1000, max_steps=8000, minutes=60),
}
DEFAULT_EFFORT = "normal"
CHECKS = 12  # held-out checks (epochs) per run, when the device allows that many
SHORT_TEXT = 12_800  # below this many training characters, sequences get shorter
MIN_SEQ_LEN = 32
UNTIL_TIME = 100_000  # epochs of a run whose budget is its minutes


@dataclass(frozen=True)
class Preset:
    """A named network size and training recipe for ``lstm-bot train --preset``."""

    description: str
    network: dict[str, Any] = field(default_factory=dict)  # NetworkConfig fields to change
    train: dict[str, Any] = field(default_factory=dict)  # TrainConfig fields to change


DEFAULT_PRESET = "default"
PRESETS = {
    "default": Preset("the default network, 2 x LSTM(192): generates fastest"),
    "gpu": Preset(
        "3 x LSTM(512), batch 128 x 256: what a GPU trains well in minutes (generates about "
        "5x slower than the default)",
        {"units": 512, "layers": 3, "dropout": 0.4},
        {"seq_len": 256, "batch_size": 128, "learning_rate": 2e-3, "steps_per_epoch": 200},
    ),
}


@dataclass(frozen=True)
class Recipe:
    network: NetworkConfig  # vocab_size 0: set from the corpus (ignored when fine-tuning)
    train: TrainConfig


def recipe(
    chars: int,
    device: Device,
    *,
    effort: str = DEFAULT_EFFORT,
    preset: str = DEFAULT_PRESET,
    epochs: int | None = None,
    minutes: float | None = None,
    network: dict[str, Any] | None = None,
    train: dict[str, Any] | None = None,
) -> Recipe:
    """The network and training configuration for a text of ``chars`` characters on
    ``device`` (see the module docstring for the order). ``network`` and ``train`` are
    explicit NetworkConfig / TrainConfig fields; they win over everything else."""
    chosen = PRESETS[preset]
    given = dict(train or {})
    base = {**chosen.train, **given}  # preset, then explicit: what sizing must respect
    budget = EFFORTS[effort]
    train_chars = int(chars * (1 - HELDOUT_FRACTION))
    seq_len = base.get("seq_len", TrainConfig.seq_len)
    if train_chars < SHORT_TEXT and "seq_len" not in given:  # short text: many short sequences
        seq_len = min(seq_len, max(MIN_SEQ_LEN, train_chars // 100))
    sequences = max(1, train_chars // seq_len)
    batch = base.get("batch_size", max(1, min(device.batch_size, sequences // 3)))
    steps = min(
        budget.max_steps,
        max(budget.min_steps, math.ceil(budget.passes * max(1, sequences // batch))),
    )
    per_epoch: int | None = base.get(
        "steps_per_epoch", max(device.min_epoch_steps, math.ceil(steps / CHECKS))
    )
    run_epochs = max(1, steps // per_epoch) if per_epoch else 1
    if minutes and not epochs:  # the time is the budget
        run_epochs = UNTIL_TIME
    if epochs:  # that many passes over the text
        per_epoch, run_epochs = given.get("steps_per_epoch"), epochs
    values = {
        **chosen.train,
        "seq_len": seq_len,
        "batch_size": batch,
        "epochs": run_epochs,
        "steps_per_epoch": per_epoch,
        "minutes": minutes or budget.minutes,
        "eval_chars": device.eval_chars,
        **given,
    }
    net = NetworkConfig(vocab_size=0, **{**chosen.network, **(network or {})})
    return Recipe(net, TrainConfig(**values))

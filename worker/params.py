"""A job's ``params`` JSON: what the bot asks for, turned into training configurations.

``{"effort": "quick" | "normal" | "thorough", "epochs": N, "minutes": M, "corpus_name": ...}``.
An effort is a budget of optimiser steps and a wall-clock cap, sized to the text and the
device by :meth:`TrainingPlan.sized` (see :data:`EFFORTS`): a short text gets many passes over
short sequences, a long one a bounded number of steps, and a GPU steps of 8x the characters.
``epochs`` (1-200) replaces the effort's steps by that many passes over the text, ``minutes``
replaces its cap. Internal overrides, for tests and operators: ``"network"`` (NetworkConfig
fields for a new model) and ``"train"`` (TrainConfig fields: seq_len, batch_size...), applied
last.
Importing this module does not import Keras.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from typing import Any

from model_store.backend import Device
from model_store.config import NetworkConfig, TrainConfig
from model_store.corpus import HELDOUT_FRACTION


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
MAX_EPOCHS = 200
CHECKS = 12  # held-out checks (epochs) per run, when the device allows that many
SHORT_TEXT = 12_800  # below this many training characters, sequences get shorter
MIN_SEQ_LEN = 32


class ParamsError(ValueError):
    """Malformed job parameters (a bug in the submitter, not the user's fault)."""


@dataclass(frozen=True)
class TrainingPlan:
    network: NetworkConfig  # vocab_size is set from the corpus; ignored when fine-tuning
    effort: str
    epochs: int | None = None  # set by the job; else from the effort
    minutes: float | None = None  # set by the job; else the effort's cap
    train: dict[str, Any] = dataclasses.field(default_factory=dict)  # TrainConfig overrides
    corpus_name: str | None = None

    def sized(self, chars: int, device: Device) -> TrainConfig:
        """The training configuration for a text of ``chars`` characters on ``device``."""
        effort = EFFORTS[self.effort]
        train_chars = int(chars * (1 - HELDOUT_FRACTION))
        seq_len = TrainConfig.seq_len
        if train_chars < SHORT_TEXT:  # a short text: short sequences, so there are many
            seq_len = max(MIN_SEQ_LEN, train_chars // 100)
        seq_len = self.train.get("seq_len", seq_len)
        sequences = max(1, train_chars // seq_len)
        batch = self.train.get("batch_size", max(1, min(device.batch_size, sequences // 3)))
        per_pass = max(1, sequences // batch)
        steps = min(effort.max_steps, max(effort.min_steps, math.ceil(effort.passes * per_pass)))
        per_epoch: int | None = max(device.min_epoch_steps, math.ceil(steps / CHECKS))
        epochs = max(1, steps // per_epoch)
        if self.epochs:  # set by the job: that many passes over the text
            per_epoch, epochs = None, self.epochs
        values = {
            "seq_len": seq_len,
            "batch_size": batch,
            "epochs": epochs,
            "steps_per_epoch": per_epoch,
            "minutes": self.minutes or effort.minutes,
            "eval_chars": device.eval_chars,
            **self.train,
        }
        return TrainConfig(**values)


def make_params(effort: str = DEFAULT_EFFORT, epochs: int | None = None, **extra: Any) -> dict:
    """The params dict the bot stores with a job (checked here, so a bad one fails early)."""
    params: dict[str, Any] = {"effort": effort, **extra}
    if epochs is not None:
        params["epochs"] = epochs
    parse_params(params)
    return params


def parse_params(params: dict[str, Any]) -> TrainingPlan:
    effort = params.get("effort", DEFAULT_EFFORT)
    if effort not in EFFORTS:
        raise ParamsError(f"unknown effort {effort!r} (use {', '.join(EFFORTS)})")
    epochs = params.get("epochs")
    if epochs is not None and (
        isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= MAX_EPOCHS
    ):
        raise ParamsError(f"epochs must be a whole number from 1 to {MAX_EPOCHS}")
    minutes = params.get("minutes")
    if minutes is not None and (not isinstance(minutes, int | float) or minutes <= 0):
        raise ParamsError("minutes must be a positive number")
    train = _fields(params, "train", TrainConfig)
    network = {"vocab_size": 0, **_fields(params, "network", NetworkConfig)}
    network["vocab_size"] = 0
    try:
        TrainConfig(**train)
        return TrainingPlan(
            NetworkConfig(**network), effort, epochs, minutes, train, params.get("corpus_name")
        )
    except TypeError as exc:
        raise ParamsError(str(exc)) from None


def _fields(params: dict[str, Any], key: str, cls: type) -> dict[str, Any]:
    values = params.get(key)
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ParamsError(f"{key} must be an object")
    unknown = set(values) - {f.name for f in fields(cls)}
    if unknown:
        raise ParamsError(f"unknown {key} settings: {', '.join(sorted(unknown))}")
    return dict(values)

"""A job's ``params`` JSON: what the bot asks for, turned into a training recipe.

``{"effort": "quick" | "normal" | "thorough", "epochs": N, "minutes": M, "corpus_name": ...}``.
:meth:`TrainingPlan.recipe` hands these to :func:`model_store.recipe.recipe`, the one function
that assembles a recipe (``lstm-bot train`` uses it too): an effort is a budget of optimiser
steps and a wall-clock cap sized to the text and the device; ``epochs`` (1-200) replaces the
effort's steps by that many passes over the text, ``minutes`` replaces its cap (alone, the
time is the budget, as for ``lstm-bot train --minutes``). Internal
overrides, for tests and operators: ``"network"`` (NetworkConfig fields for a new model) and
``"train"`` (TrainConfig fields: seq_len, batch_size...), applied last.
Importing this module does not import Keras.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any

from model_store.backend import Device
from model_store.config import NetworkConfig, TrainConfig
from model_store.recipe import DEFAULT_EFFORT, EFFORTS, Recipe, recipe

MAX_EPOCHS = 200


class ParamsError(ValueError):
    """Malformed job parameters (a bug in the submitter, not the user's fault)."""


@dataclass(frozen=True)
class TrainingPlan:
    effort: str
    epochs: int | None = None  # set by the job; else from the effort
    minutes: float | None = None  # set by the job; else the effort's cap
    network: dict[str, Any] = dataclasses.field(default_factory=dict)  # NetworkConfig fields
    train: dict[str, Any] = dataclasses.field(default_factory=dict)  # TrainConfig overrides
    corpus_name: str | None = None

    def recipe(self, chars: int, device: Device) -> Recipe:
        """The recipe for a text of ``chars`` characters on ``device``."""
        return recipe(
            chars,
            device,
            effort=self.effort,
            epochs=self.epochs,
            minutes=self.minutes,
            network=self.network,
            train=self.train,
        )


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
    network = _fields(params, "network", NetworkConfig)
    network.pop("vocab_size", None)  # set from the corpus
    try:
        TrainConfig(**train)
        NetworkConfig(vocab_size=0, **network)
    except TypeError as exc:
        raise ParamsError(str(exc)) from None
    return TrainingPlan(effort, epochs, minutes, network, train, params.get("corpus_name"))


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

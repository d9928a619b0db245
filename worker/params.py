"""A job's ``params`` JSON: what the bot asks for, turned into training configurations.

``{"effort": "quick" | "normal" | "thorough", "epochs": N, "minutes": M, "corpus_name": ...}``
where ``epochs`` (1-200) overrides the effort's epoch count and ``minutes`` is an optional
wall-clock budget. Internal overrides, for tests and operators: ``"network"`` (NetworkConfig
fields for a new model) and ``"train"`` (TrainConfig fields: seq_len, batch_size, patience...).
Importing this module does not import TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from model_store.config import NetworkConfig, TrainConfig

EFFORT_EPOCHS = {"quick": 2, "normal": 5, "thorough": 15}  # early stopping may end sooner
DEFAULT_EFFORT = "normal"
MAX_EPOCHS = 200


class ParamsError(ValueError):
    """Malformed job parameters (a bug in the submitter, not the user's fault)."""


@dataclass(frozen=True)
class TrainingPlan:
    network: NetworkConfig  # vocab_size is set from the corpus; ignored when fine-tuning
    train: TrainConfig
    corpus_name: str | None = None


def make_params(effort: str = DEFAULT_EFFORT, epochs: int | None = None, **extra: Any) -> dict:
    """The params dict the bot stores with a job (checked here, so a bad one fails early)."""
    params: dict[str, Any] = {"effort": effort, **extra}
    if epochs is not None:
        params["epochs"] = epochs
    parse_params(params)
    return params


def parse_params(params: dict[str, Any]) -> TrainingPlan:
    effort = params.get("effort", DEFAULT_EFFORT)
    if effort not in EFFORT_EPOCHS:
        raise ParamsError(f"unknown effort {effort!r} (use {', '.join(EFFORT_EPOCHS)})")
    epochs = params.get("epochs", EFFORT_EPOCHS[effort])
    if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= MAX_EPOCHS:
        raise ParamsError(f"epochs must be a whole number from 1 to {MAX_EPOCHS}")
    minutes = params.get("minutes")
    if minutes is not None and (not isinstance(minutes, int | float) or minutes <= 0):
        raise ParamsError("minutes must be a positive number")
    train = {"epochs": epochs, "minutes": minutes, **_fields(params, "train", TrainConfig)}
    network = {"vocab_size": 0, **_fields(params, "network", NetworkConfig)}
    network["vocab_size"] = 0
    try:
        return TrainingPlan(
            NetworkConfig(**network), TrainConfig(**train), params.get("corpus_name")
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

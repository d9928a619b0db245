"""Plain configuration records shared by training (Keras) and serving (numpy)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class NetworkConfig:
    """Embedding -> ``layers`` x LSTM(``units``) -> Dense logits over the charset."""

    vocab_size: int
    embedding_dim: int = 64
    units: int = 384
    layers: int = 2
    dropout: float = 0.25  # between layers and before the logits; training only

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NetworkConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class TrainConfig:
    seq_len: int = 128
    batch_size: int = 64
    learning_rate: float = 2e-3
    clipnorm: float = 5.0
    epochs: int = 20
    minutes: float | None = None  # wall-clock budget; stops after the step that crosses it
    patience: int = 3  # early stopping on held-out loss
    seed: int = 1234
    sample_length: int = 200
    sample_temperature: float = 0.5

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def weight_names(cfg: NetworkConfig) -> list[str]:
    """Names of the arrays in a model's weights file, in Keras ``get_weights()`` order."""
    names = ["embedding"]
    for i in range(cfg.layers):
        names += [f"lstm{i}_kernel", f"lstm{i}_recurrent", f"lstm{i}_bias"]
    return names + ["dense_kernel", "dense_bias"]


def weight_shapes(cfg: NetworkConfig) -> dict[str, tuple[int, ...]]:
    h4 = 4 * cfg.units
    shapes: dict[str, tuple[int, ...]] = {"embedding": (cfg.vocab_size, cfg.embedding_dim)}
    for i in range(cfg.layers):
        fan_in = cfg.embedding_dim if i == 0 else cfg.units
        shapes[f"lstm{i}_kernel"] = (fan_in, h4)
        shapes[f"lstm{i}_recurrent"] = (cfg.units, h4)
        shapes[f"lstm{i}_bias"] = (h4,)
    shapes["dense_kernel"] = (cfg.units, cfg.vocab_size)
    shapes["dense_bias"] = (cfg.vocab_size,)
    return shapes

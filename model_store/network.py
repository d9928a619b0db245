"""The network in Keras 3: Embedding -> LSTM x N -> Dense logits.

The LSTM keeps Keras' defaults that select the fused cuDNN kernel on a GPU (tanh / sigmoid,
recurrent_dropout=0, unroll=False, use_bias=True); dropout is applied between layers instead.
Only the Keras API is used, so any Keras backend can train it.
"""

from __future__ import annotations

import numpy as np

from .backend import configure
from .config import NetworkConfig, weight_names

configure()
import keras  # noqa: E402


def build_model(cfg: NetworkConfig, seq_len: int | None = None) -> keras.Model:
    inputs = keras.Input(shape=(seq_len,), dtype="int32", name="chars")
    x = keras.layers.Embedding(cfg.vocab_size, cfg.embedding_dim, name="embedding")(inputs)
    for i in range(cfg.layers):
        x = keras.layers.LSTM(cfg.units, return_sequences=True, name=f"lstm{i}")(x)
        if cfg.dropout > 0:
            x = keras.layers.Dropout(cfg.dropout, name=f"dropout{i}")(x)
    logits = keras.layers.Dense(cfg.vocab_size, name="logits")(x)
    return keras.Model(inputs, logits, name="char_lstm")


def get_weights(model: keras.Model, cfg: NetworkConfig) -> dict[str, np.ndarray]:
    values = model.get_weights()
    names = weight_names(cfg)
    if len(values) != len(names):
        raise ValueError("model does not match its configuration")
    return {n: np.asarray(v, dtype=np.float32) for n, v in zip(names, values, strict=True)}


def set_weights(model: keras.Model, cfg: NetworkConfig, weights: dict[str, np.ndarray]) -> None:
    model.set_weights([weights[n] for n in weight_names(cfg)])


def grow_vocabulary(
    weights: dict[str, np.ndarray], new_vocab: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Extend embedding rows and logit columns for characters appended to the charset.

    Known characters keep their learned weights. New embedding rows are drawn around the
    existing ones; new logit columns start small with the lowest existing bias, so before any
    fine-tuning the model still predicts what it did (new characters are merely unlikely)."""
    out = dict(weights)
    emb, kernel, bias = weights["embedding"], weights["dense_kernel"], weights["dense_bias"]
    extra = new_vocab - emb.shape[0]
    if extra <= 0:
        return out
    new_emb = rng.normal(emb.mean(axis=0), emb.std(axis=0) + 1e-6, (extra, emb.shape[1]))
    new_cols = rng.normal(0.0, 0.1 * (kernel.std() + 1e-6), (kernel.shape[0], extra))
    out["embedding"] = np.concatenate([emb, new_emb.astype(np.float32)])
    out["dense_kernel"] = np.concatenate([kernel, new_cols.astype(np.float32)], axis=1)
    out["dense_bias"] = np.concatenate([bias, np.full(extra, bias.min(), dtype=np.float32)])
    return out

"""The network's forward pass in numpy: one stateful LSTM step per character, batched.

Gate order and activations follow Keras' LSTM (i, f, c, o; sigmoid gates, tanh cell), so a
step here gives the same logits as the Keras model. The first layer's input projection is
folded into a per-character table (``embedding @ kernel + bias``): a lookup instead of a
matmul, which is most of the speed for one stream. The sigmoid gates use
``sigmoid(x) = (1 + tanh(x / 2)) / 2`` with the ``/ 2`` folded into their weight columns, so
each layer needs a single ``tanh`` over all four gates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import NetworkConfig

State = list[tuple[np.ndarray, np.ndarray]]  # per layer: (h, c), each (n, units)


def _halve_sigmoid_gates(a: np.ndarray, units: int) -> np.ndarray:
    """Scale the i, f and o gate columns (Keras order i, f, c, o) by 1/2."""
    a = a.copy()
    a[..., : 2 * units] *= 0.5
    a[..., 3 * units :] *= 0.5
    return a


@dataclass
class _Layer:
    input_kernel: np.ndarray | None  # (fan_in, 4H); None for the first layer (table lookup)
    recurrent: np.ndarray  # (H, 4H)
    bias: np.ndarray  # (4H,)
    stacked: np.ndarray | None  # (fan_in + H, 4H): one matmul for layers after the first


class NumpyLSTM:
    """Forward-only LSTM stack from a weights dict (see :func:`config.weight_names`)."""

    def __init__(self, config: NetworkConfig, weights: dict[str, np.ndarray]):
        self.config = config
        f32 = {k: np.asarray(v, dtype=np.float32) for k, v in weights.items()}
        self.units = config.units
        self.layers: list[_Layer] = []
        for i in range(config.layers):
            kernel, rec, bias = (
                _halve_sigmoid_gates(f32[f"lstm{i}_{n}"], config.units)
                for n in ("kernel", "recurrent", "bias")
            )
            if i == 0:
                self.input_table = f32["embedding"] @ kernel + bias  # (V, 4H)
                self.layers.append(_Layer(None, np.ascontiguousarray(rec), bias, None))
            else:
                stacked = np.ascontiguousarray(np.concatenate([kernel, rec], axis=0))
                self.layers.append(_Layer(kernel, rec, bias, stacked))
        self.dense_kernel = np.ascontiguousarray(f32["dense_kernel"])
        self.dense_bias = f32["dense_bias"]

    @property
    def vocab_size(self) -> int:
        return self.config.vocab_size

    def initial_state(self, n: int) -> State:
        z = np.zeros((n, self.units), dtype=np.float32)
        return [(z.copy(), z.copy()) for _ in self.layers]

    def step(self, ids: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """Feed one character id per row; return logits (n, V) and the new state."""
        units = self.units
        new_state: State = []
        x = None
        for i, layer in enumerate(self.layers):
            h, c = state[i]
            if i == 0:
                z = self.input_table[ids] + h @ layer.recurrent
            else:
                z = np.concatenate([x, h], axis=1) @ layer.stacked + layer.bias
            t = np.tanh(z)
            gi = 0.5 + 0.5 * t[:, :units]
            gf = 0.5 + 0.5 * t[:, units : 2 * units]
            go = 0.5 + 0.5 * t[:, 3 * units :]
            c = gf * c + gi * t[:, 2 * units : 3 * units]
            x = go * np.tanh(c)
            new_state.append((x, c))
        return x @ self.dense_kernel + self.dense_bias, new_state

    def prime(self, ids: np.ndarray, state: State | None = None) -> tuple[np.ndarray, State]:
        """Run one stream (n=1) through ``ids``; return the last logits (1, V) and state."""
        state = state if state is not None else self.initial_state(1)
        logits = np.zeros((1, self.vocab_size), dtype=np.float32)
        for token in ids:
            logits, state = self.step(np.array([token]), state)
        return logits, state

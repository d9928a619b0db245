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


_HUGE_PAGE = 2 << 20
WIDE_BATCH = 256  # rows from which a step computes in (n, 4H) layout


def _pack(arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Copy the serving weights into one 2 MiB-aligned block of at least 4 MiB.

    Every generated character reads all the weights; spread over 4 KiB pages that costs a TLB
    miss every few kilobytes. numpy asks the kernel for transparent huge pages on allocations
    of 4 MiB or more, so one aligned block maps them with a handful of 2 MiB pages (measured
    here: 400 characters in ~45 ms instead of ~75 ms for the default model)."""
    sizes = [a.nbytes for a in arrays]
    total = max(sum(-(-n // 64) * 64 for n in sizes), 4 << 20)
    block = np.empty(total + _HUGE_PAGE, dtype=np.uint8)
    offset = (-block.ctypes.data) % _HUGE_PAGE
    packed = []
    for a in arrays:
        view = np.ndarray(a.shape, dtype=np.float32, buffer=block, offset=offset)
        view[...] = a
        packed.append(view)
        offset += -(-a.nbytes // 64) * 64
    return packed


def _halve_sigmoid_gates(a: np.ndarray, units: int) -> np.ndarray:
    """Scale the i, f and o gate columns (Keras order i, f, c, o) by 1/2."""
    a = a.copy()
    a[..., : 2 * units] *= 0.5
    a[..., 3 * units :] *= 0.5
    return a


@dataclass
class _Layer:
    # Weights are kept transposed, (4H, fan_in): OpenBLAS then streams them once per step
    # instead of packing them for small batches (2x faster at n=8, the same at n=1).
    weights_t: np.ndarray  # layer 0: recurrent (4H, H); later: [kernel; recurrent] (4H, in+H)
    bias: np.ndarray  # (4H,); folded into the input table for layer 0


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
                self.layers.append(_Layer(np.ascontiguousarray(rec.T), bias))
            else:
                stacked = np.concatenate([kernel, rec], axis=0)
                self.layers.append(_Layer(np.ascontiguousarray(stacked.T), bias))
        self.dense_t = np.ascontiguousarray(f32["dense_kernel"].T)  # (V, H)
        self.dense_bias = f32["dense_bias"]
        packed = _pack(
            [self.input_table, self.dense_t] + [layer.weights_t for layer in self.layers]
        )
        self.input_table, self.dense_t = packed[:2]
        for layer, weights_t in zip(self.layers, packed[2:], strict=True):
            layer.weights_t = weights_t

    @property
    def vocab_size(self) -> int:
        return self.config.vocab_size

    def initial_state(self, n: int) -> State:
        z = np.zeros((n, self.units), dtype=np.float32)
        return [(z.copy(), z.copy()) for _ in self.layers]

    def step(
        self, ids: np.ndarray, state: State, *, logits: bool = True
    ) -> tuple[np.ndarray | None, State]:
        """Feed one character id per row; return logits (n, V) and the new state.

        ``logits=False`` skips the output layer (while reading a seed nothing is sampled).
        From ``WIDE_BATCH`` rows on, the matmuls give (n, 4H) results directly (the weights
        read through a transposed view): the gate arithmetic then runs on contiguous rows
        instead of transposed ones (measured: ~30% less time per step at n = 1000)."""
        if len(ids) >= WIDE_BATCH:
            return self._step_wide(ids, state, logits)
        units = self.units
        new_state: State = []
        x = None
        for i, layer in enumerate(self.layers):
            h, c = state[i]
            if i == 0:
                z = self.input_table[ids] + (layer.weights_t @ h.T).T
            else:
                z = (layer.weights_t @ np.concatenate([x, h], axis=1).T).T + layer.bias
            t = np.tanh(z, out=z)
            g = t[:, 2 * units : 3 * units].copy()  # the cell candidate: tanh itself
            gates = np.multiply(t, 0.5, out=t)
            gates += 0.5  # i, f, o: sigmoids of the (pre-halved) pre-activations
            c = gates[:, units : 2 * units] * c + gates[:, :units] * g
            x = gates[:, 3 * units :] * np.tanh(c)
            new_state.append((x, c))
        if not logits:
            return None, new_state
        return (self.dense_t @ x.T).T + self.dense_bias, new_state

    def _step_wide(
        self, ids: np.ndarray, state: State, logits: bool
    ) -> tuple[np.ndarray | None, State]:
        """:meth:`step` for many rows: the same arithmetic, in place where it can be."""
        units = self.units
        new_state: State = []
        x = None
        for i, layer in enumerate(self.layers):
            h, c = state[i]
            if i == 0:
                z = h @ layer.weights_t.T
                z += self.input_table[ids]
            else:
                z = np.concatenate([x, h], axis=1) @ layer.weights_t.T
                z += layer.bias
            np.tanh(z, out=z)
            g = z[:, 2 * units : 3 * units].copy()  # the cell candidate: tanh itself
            z *= 0.5
            z += 0.5  # i, f, o: sigmoids of the (pre-halved) pre-activations
            c = z[:, units : 2 * units] * c
            g *= z[:, :units]
            c += g
            x = np.tanh(c)
            x *= z[:, 3 * units :]
            new_state.append((x, c))
        if not logits:
            return None, new_state
        out = x @ self.dense_t.T
        out += self.dense_bias
        return out, new_state

    def prime(self, ids: np.ndarray, state: State | None = None) -> tuple[np.ndarray, State]:
        """Run one stream (n=1) through ``ids``; return the last logits (1, V) and state."""
        state = state if state is not None else self.initial_state(1)
        logits = np.zeros((1, self.vocab_size), dtype=np.float32)
        for token in ids:
            logits, state = self.step(np.array([token]), state)
        return logits, state

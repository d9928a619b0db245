"""Held-out loss of a model on a text, in nats (and bits) per character, with numpy.

The text is cut into a few contiguous pieces that are read in parallel statefully (each from
a zero state), and every character after the first of each piece is predicted from all the
characters before it in its piece. Characters the model does not know are dropped (counted).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .charset import Charset
from .lstm import NumpyLSTM

MIN_PIECE = 2000
MAX_PIECES = 64


@dataclass(frozen=True)
class EvalResult:
    nats: float
    chars: int  # characters predicted
    unknown: int  # characters dropped because the model does not know them

    @property
    def bits(self) -> float:
        return self.nats / math.log(2)

    def __str__(self) -> str:
        return f"{self.nats:.3f} nats/char ({self.bits:.3f} bits/char)"


def piece_grid(ids: np.ndarray, max_chars: int | None = None) -> np.ndarray:
    """The held-out text as contiguous pieces, one a row, each read from a zero state.

    With ``max_chars`` only evenly spaced rows totalling at most that many characters are
    kept (at least one): the same pieces, fewer of them. Training's per-epoch check on the
    Keras backend reads the same grid, so both measure the same thing."""
    pieces = max(1, min(MAX_PIECES, len(ids) // MIN_PIECE))
    length = len(ids) // pieces
    if length < 2:
        raise ValueError("text too short to evaluate")
    grid = np.asarray(ids[: pieces * length]).reshape(pieces, length)
    if max_chars is not None and pieces * length > max_chars:
        keep = max(1, max_chars // length)
        grid = grid[np.linspace(0, pieces - 1, keep).round().astype(int)]
    return grid


def evaluate_ids(
    model: NumpyLSTM, ids: np.ndarray, stop: Callable[[], bool] | None = None
) -> tuple[float, int]:
    """Mean next-character loss (nats) over ``ids``; returns (loss, characters predicted).
    ``stop()`` is asked every few steps: when true, the result so far is returned."""
    grid = piece_grid(ids)
    pieces, length = grid.shape
    state = model.initial_state(pieces)
    total = 0.0
    rows = np.arange(pieces)
    for t in range(length - 1):
        if stop is not None and t % 16 == 0 and stop():
            return total / max(1, pieces * t), pieces * t
        logits, state = model.step(grid[:, t], state)
        z = logits.astype(np.float64)
        zmax = z.max(axis=1)
        lse = zmax + np.log(np.exp(z - zmax[:, None]).sum(axis=1))
        total += float((lse - z[rows, grid[:, t + 1]]).sum())
    count = pieces * (length - 1)
    return total / count, count


def evaluate_text(model: NumpyLSTM, charset: Charset, text: str) -> EvalResult:
    encoded = charset.encode(text)
    unknown = len(text) - len(encoded.ids)
    loss, count = evaluate_ids(model, encoded.ids)
    return EvalResult(loss, count, unknown)

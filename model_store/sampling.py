"""Generation from numpy weights: continuous batching of stateful LSTM streams.

A :class:`BatchSampler` holds any number of rows (one per requested sample). Each
:meth:`BatchSampler.step` feeds every row one character: rows still reading their seed take
the next seed character, the others sample one from the logits with their own temperature,
top-k, top-p and random generator. Rows can join and leave between steps, so concurrent
requests for the same model share one batched matmul per character.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from .artifact import ModelArtifact
from .charset import Charset
from .errors import SeedError
from .lstm import NumpyLSTM

MAX_TEMPERATURE = 5.0


@dataclass(frozen=True)
class SampleOptions:
    temperature: float = 0.5  # 0 means greedy (always the most likely character)
    length: int = 400  # characters to generate after the seed
    top_k: int = 0  # 0 = off; otherwise sample only among the k most likely
    top_p: float = 1.0  # nucleus sampling; 1.0 = off
    stop: tuple[str, ...] = ()  # finish when the text ends with one of these (not included)
    rng_seed: int | None = None  # same seed + same options -> same text

    def __post_init__(self) -> None:
        if not 0.0 <= self.temperature <= MAX_TEMPERATURE:
            raise ValueError(f"temperature must be between 0 and {MAX_TEMPERATURE}")
        if self.length < 1:
            raise ValueError("length must be at least 1")
        if self.top_k < 0:
            raise ValueError("top-k must be 0 (off) or positive")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError("top-p must be in (0, 1]")
        if any(not s for s in self.stop):
            raise ValueError("stop strings must not be empty")


@dataclass(eq=False)
class Row:
    """One sample in flight. ``text`` grows as it is generated; ``done`` when finished."""

    seed: str
    options: SampleOptions
    unknown: tuple[str, ...]  # seed characters the model does not know (dropped)
    rng: np.random.Generator
    _feed: list[int] = field(repr=False)  # seed ids still to be read
    _next: int = field(repr=False, default=0)
    chars: list[str] = field(default_factory=list)
    done: bool = False
    finish_reason: str | None = None  # "length" or "stop"

    @property
    def text(self) -> str:
        return "".join(self.chars)


def sample_ids(
    logits: np.ndarray,
    temperature: np.ndarray,
    top_k: np.ndarray,
    top_p: np.ndarray,
    uniform: np.ndarray,
) -> np.ndarray:
    """Pick one id per row of ``logits`` (m, V) given per-row options and uniform draws.

    Each row's pick depends only on its own logits, options and draw (never on the other rows
    in the batch), so a sample is the same whether it is generated alone or batched."""
    rows, vocab = logits.shape
    if (
        rows == 1
        and temperature[0] > 0
        and (top_k[0] <= 0 or top_k[0] >= vocab)
        and (top_p[0] >= 1.0)
    ):  # one plain row (the common single-stream case): the same arithmetic, fewer calls
        z = logits[0].astype(np.float64) / temperature[0]
        cum = np.cumsum(np.exp(z - z.max()))
        pick = int(np.searchsorted(cum, uniform[0] * cum[-1]))  # = count of cum < threshold
        return np.array([min(pick, vocab - 1)])
    out = np.argmax(logits, axis=1)
    hot = temperature > 0
    unfiltered = ((top_k <= 0) | (top_k >= vocab)) & (top_p >= 1.0)
    plain, filtered = hot & unfiltered, hot & ~unfiltered
    if plain.any():  # temperature only: no sort needed
        z = logits[plain].astype(np.float64) / temperature[plain, None]
        cum = np.cumsum(np.exp(z - z.max(axis=1, keepdims=True)), axis=1)
        pick = (cum < uniform[plain, None] * cum[:, -1:]).sum(axis=1)
        out[plain] = np.minimum(pick, vocab - 1)
    if filtered.any():  # top-k and/or top-p: work in descending-probability order
        z = logits[filtered].astype(np.float64) / temperature[filtered, None]
        order = np.argsort(-z, axis=1, kind="stable")
        zs = np.take_along_axis(z, order, axis=1)
        probs = np.exp(zs - zs[:, :1])
        k = top_k[filtered]
        k = np.where((k <= 0) | (k > vocab), vocab, k)
        probs[np.arange(vocab)[None, :] >= k[:, None]] = 0.0
        probs /= probs.sum(axis=1, keepdims=True)
        cum = np.cumsum(probs, axis=1)
        probs[(cum - probs) >= top_p[filtered, None]] = 0.0  # smallest set reaching top_p
        cum = np.cumsum(probs, axis=1)
        pick = (cum < uniform[filtered, None] * cum[:, -1:]).sum(axis=1)
        pick = np.minimum(pick, vocab - 1)
        out[filtered] = order[np.arange(order.shape[0]), pick]
    return out


class BatchSampler:
    def __init__(self, model: NumpyLSTM, charset: Charset):
        self.model = model
        self.charset = charset
        self.rows: list[Row] = []
        self._state = model.initial_state(0)
        self._options_changed()

    def __len__(self) -> int:
        return len(self.rows)

    def _options_changed(self) -> None:
        """Per-row option arrays, rebuilt only when rows join or leave (not every step)."""
        rows = self.rows
        self._temperature = np.array([r.options.temperature for r in rows], dtype=np.float64)
        self._top_k = np.array([r.options.top_k for r in rows], dtype=np.int64)
        self._top_p = np.array([r.options.top_p for r in rows], dtype=np.float64)

    def add(self, seed: str, options: SampleOptions, *, stream: int = 0) -> Row:
        """Add a row; ``stream`` distinguishes the rng of several samples from one rng seed."""
        encoded = self.charset.encode(seed)
        if len(encoded.ids) == 0:
            if seed:
                chars = repr("".join(encoded.unknown)[:20])
                raise SeedError(
                    f"the model knows none of the characters in the seed ({chars})",
                    "unknown_chars",
                    chars=chars,
                )
            raise SeedError("the seed is empty", "empty")
        entropy = None if options.rng_seed is None else [options.rng_seed, stream]
        ids = [int(i) for i in encoded.ids]
        feed = ids[:0:-1]  # the rest of the seed, reversed: pop() takes the next one
        row = Row(seed, options, encoded.unknown, np.random.default_rng(entropy), feed, ids[0])
        self.rows.append(row)
        zero = self.model.initial_state(1)
        self._state = [
            (np.concatenate([h, zh]), np.concatenate([c, zc]))
            for (h, c), (zh, zc) in zip(self._state, zero, strict=True)
        ]
        self._options_changed()
        return row

    def step(self) -> list[tuple[Row, str]]:
        """Advance every row by one character; return (row, new character) for sampled rows.

        Finished rows are removed from the batch (their ``done`` is set)."""
        rows = self.rows
        if not rows:
            return []
        if len(rows) == 1:
            return self._step_one(rows[0])
        ids = np.fromiter((r._next for r in rows), dtype=np.int64, count=len(rows))
        logits, self._state = self.model.step(ids, self._state)
        if any(r._feed for r in rows):  # some rows are still reading their seed
            sampling = [i for i, r in enumerate(rows) if not r._feed]
            for r in rows:
                if r._feed:
                    r._next = r._feed.pop()
            if not sampling:
                return []
            sampled = [rows[i] for i in sampling]
            picked = sample_ids(
                logits[sampling],
                self._temperature[sampling],
                self._top_k[sampling],
                self._top_p[sampling],
                np.fromiter((r.rng.random() for r in sampled), np.float64, len(sampled)),
            )
        else:
            sampled = rows
            uniform = np.fromiter((r.rng.random() for r in rows), np.float64, len(rows))
            picked = sample_ids(logits, self._temperature, self._top_k, self._top_p, uniform)
        chars = self.charset.chars
        emitted: list[tuple[Row, str]] = []
        finished = False
        for row, pid in zip(sampled, picked.tolist(), strict=True):
            row._next = pid
            char = chars[pid]
            row.chars.append(char)
            emitted.append((row, char))
            self._check_finished(row)
            finished = finished or row.done
        if finished:
            keep = [i for i, r in enumerate(rows) if not r.done]
            self.rows = [rows[i] for i in keep]
            self._state = [(h[keep], c[keep]) for h, c in self._state]
            self._options_changed()
        return emitted

    def _step_one(self, row: Row) -> list[tuple[Row, str]]:
        """:meth:`step` for a batch of one: the same arithmetic with less bookkeeping."""
        reading = bool(row._feed)
        logits, self._state = self.model.step(
            np.array([row._next]), self._state, logits=not reading
        )
        if reading:
            row._next = row._feed.pop()
            return []
        uniform = np.array([row.rng.random()])
        pid = int(sample_ids(logits, self._temperature, self._top_k, self._top_p, uniform)[0])
        row._next = pid
        char = self.charset.chars[pid]
        row.chars.append(char)
        self._check_finished(row)
        if row.done:
            self.rows = []
            self._state = [(h[:0], c[:0]) for h, c in self._state]
            self._options_changed()
        return [(row, char)]

    @staticmethod
    def _check_finished(row: Row) -> None:
        opts = row.options
        if opts.stop:
            tail = "".join(row.chars[-max(len(s) for s in opts.stop) :])
            for s in opts.stop:
                if tail.endswith(s):
                    del row.chars[len(row.chars) - len(s) :]
                    row.done, row.finish_reason = True, "stop"
                    return
        if len(row.chars) >= opts.length:
            row.done, row.finish_reason = True, "length"


class Generator:
    """Convenience front for one model: whole texts, n samples in a batch, or a stream."""

    def __init__(self, artifact: ModelArtifact):
        self.artifact = artifact
        self.charset = artifact.charset
        self.model = NumpyLSTM(artifact.config, artifact.weights)

    def sampler(self) -> BatchSampler:
        return BatchSampler(self.model, self.charset)

    def generate(self, seed: str, options: SampleOptions, n: int = 1) -> list[str]:
        """``n`` continuations of ``seed`` (the seed itself is not included)."""
        batch = self.sampler()
        rows = [batch.add(seed, options, stream=i) for i in range(n)]
        while len(batch):
            batch.step()
        return [r.text for r in rows]

    def stream(self, seed: str, options: SampleOptions) -> Iterator[str]:
        """Yield the continuation character by character as it is generated."""
        batch = self.sampler()
        batch.add(seed, options)
        while len(batch):
            for _row, char in batch.step():
                yield char

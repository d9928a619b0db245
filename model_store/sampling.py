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
    """Rows join (:meth:`add`) and leave (when done) between steps. With several rows the
    per-row bookkeeping of a step is done on arrays (the next input ids, the characters
    written, the lengths), so that a step over a thousand rows costs little Python beyond
    the matmuls; rows that join between two steps get their zero state in one concatenation.
    Rows without an rng seed draw from one shared generator (rows with one keep their own, so
    that a seeded sample is the same whether it is generated alone or batched)."""

    def __init__(self, model: NumpyLSTM, charset: Charset):
        self.model = model
        self.charset = charset
        self.rows: list[Row] = []
        self.finished: list[Row] = []  # the rows that ended in the last step
        self._state = model.initial_state(0)
        self._shared_rng = np.random.default_rng()
        self._chars = np.array(charset.chars, dtype=object)
        self._joined = 0  # rows added since the last step: their zero state is still to add
        self._options_changed()

    def __len__(self) -> int:
        return len(self.rows)

    def _options_changed(self) -> None:
        """Per-row arrays, rebuilt only when rows join or leave (not every step)."""
        rows = self.rows
        self._temperature = np.array([r.options.temperature for r in rows], dtype=np.float64)
        self._top_k = np.array([r.options.top_k for r in rows], dtype=np.int64)
        self._top_p = np.array([r.options.top_p for r in rows], dtype=np.float64)
        self._ids = np.array([r._next for r in rows], dtype=np.int64)
        self._written = np.array([len(r.chars) for r in rows], dtype=np.int64)
        self._length = np.array([r.options.length for r in rows], dtype=np.int64)
        self._reading = [i for i, r in enumerate(rows) if r._feed]
        self._seeded = [i for i, r in enumerate(rows) if r.rng is not self._shared_rng]
        self._stopping = [i for i, r in enumerate(rows) if r.options.stop]
        self._appends = [r.chars.append for r in rows]
        self._dirty = False

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
        if options.rng_seed is None:
            rng = self._shared_rng
        else:
            rng = np.random.default_rng([options.rng_seed, stream])
        ids = [int(i) for i in encoded.ids]
        feed = ids[:0:-1]  # the rest of the seed, reversed: pop() takes the next one
        row = Row(seed, options, encoded.unknown, rng, feed, ids[0])
        self._write_back()
        self.rows.append(row)
        self._joined += 1
        self._dirty = True
        return row

    def _write_back(self) -> None:
        """Before the rows change: the next ids, kept in an array while batched, go back to
        the rows."""
        if not self._dirty and len(self._ids) == len(self.rows) > 1:
            for row, next_id in zip(self.rows, self._ids.tolist(), strict=True):
                row._next = next_id
            self._dirty = True

    def _settle(self) -> None:
        """Before a step: the zero state of the rows that joined, and the per-row arrays."""
        if self._joined:
            zero = self.model.initial_state(self._joined)
            self._state = [
                (np.concatenate([h, zh]), np.concatenate([c, zc]))
                for (h, c), (zh, zc) in zip(self._state, zero, strict=True)
            ]
            self._joined = 0
        if self._dirty:
            self._options_changed()

    def step(self) -> list[tuple[Row, str]]:
        """Advance every row by one character; return (row, new character) for sampled rows.

        Finished rows are removed from the batch (their ``done`` is set, and they are
        listed in :attr:`finished` until the next step)."""
        self.finished = []
        if not self.rows:
            return []
        self._settle()
        if len(self.rows) == 1:
            return self._step_one(self.rows[0])
        return self._step_many()

    def _step_many(self) -> list[tuple[Row, str]]:
        rows, ids = self.rows, self._ids
        logits, self._state = self.model.step(ids, self._state)
        reading = self._reading
        if reading:  # some rows are still reading their seed: they sample nothing yet
            sampling = np.ones(len(rows), dtype=bool)
            sampling[reading] = False
            for i in reading:
                ids[i] = rows[i]._feed.pop()
            self._reading = [i for i in reading if rows[i]._feed]
            picks = np.flatnonzero(sampling)
            if len(picks) == 0:
                return []
            logits = logits[picks]
            temperature, top_k = self._temperature[picks], self._top_k[picks]
            top_p = self._top_p[picks]
        else:
            sampling, picks = None, None
            temperature, top_k, top_p = self._temperature, self._top_k, self._top_p
        uniform = self._shared_rng.random(len(rows))
        for i in self._seeded:  # their own generator, drawn only when they sample
            if sampling is None or sampling[i]:
                uniform[i] = rows[i].rng.random()
        if picks is not None:
            uniform = uniform[picks]
        picked = sample_ids(logits, temperature, top_k, top_p, uniform)
        written = self._chars[picked].tolist()
        if picks is None:
            ids[:] = picked
            self._written += 1
            sampled, appends = rows, self._appends
        else:
            ids[picks] = picked
            self._written[picks] += 1
            index = picks.tolist()
            sampled = [rows[i] for i in index]
            appends = [self._appends[i] for i in index]
        for append, char in zip(appends, written, strict=True):
            append(char)
        self._finish(sampling)
        return list(zip(sampled, written, strict=True))

    def _finish(self, sampling: np.ndarray | None) -> None:
        """Mark the rows that reached their length or a stop string, and drop them."""
        rows = self.rows
        ended = set()
        for i in self._stopping:
            if sampling is None or sampling[i]:
                self._check_finished(rows[i])
                if rows[i].done:
                    ended.add(i)
        long_enough = self._written >= self._length
        if sampling is not None:
            long_enough &= sampling
        for i in np.flatnonzero(long_enough).tolist():
            if not rows[i].done:
                rows[i].done, rows[i].finish_reason = True, "length"
            ended.add(i)
        if not ended:
            return
        self._write_back()
        keep = [i for i in range(len(rows)) if i not in ended]
        self.finished = [rows[i] for i in sorted(ended)]
        self.rows = [rows[i] for i in keep]
        self._state = [(h[keep], c[keep]) for h, c in self._state]
        self._dirty = True

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
            self.finished = [row]
            self.rows = []
            self._state = [(h[:0], c[:0]) for h, c in self._state]
            self._dirty = True
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

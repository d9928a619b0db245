"""Faults on demand for the fake's REST API: a fraction of requests answered with 500, 502
or 503, answered slowly, or whose connection is reset, before anything is done (so a retry
is always safe); and, only when asked for (``kinds=(..., "lost")``), requests that are done
but whose answer is lost (the connection is reset after the work: a retry may do it twice).
Interaction callbacks are spared unless ``callbacks=True`` (a failed
callback is an interaction the user sees fail, whatever the bot does).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

KINDS = ("500", "502", "503", "slow", "reset")
ALL_KINDS = (*KINDS, "lost")


@dataclass
class Faults:
    rate: float = 0.0  # fraction of REST requests that meet a fault
    kinds: tuple[str, ...] = KINDS
    slow_seconds: float = 2.0
    callbacks: bool = False
    seed: int | None = None
    counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(ALL_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {ALL_KINDS}")
        self._rng = random.Random(self.seed)

    def pick(self, path: str) -> str | None:
        """The fault this request (a path under /api/v10) meets, or None."""
        if self.rate <= 0 or (not self.callbacks and path.startswith("/interactions/")):
            return None
        if self._rng.random() >= self.rate:
            return None
        kind = self._rng.choice(self.kinds)
        self.counts[kind] += 1
        return kind

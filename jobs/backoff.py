"""The one backoff of every process: how long to wait before trying something again.

Delays double from ``base`` up to ``most`` and are drawn at random from the upper half of
that span (jitter: bots, workers and jobs that failed together don't come back in step, and
a wait never shrinks to nothing).
"""

from __future__ import annotations

import random


def delay(attempt: int, base: float, most: float) -> float:
    """Seconds to wait after failed try number ``attempt`` (1, 2, ...)."""
    ceiling = min(most, base * 2 ** (max(attempt, 1) - 1))
    return random.uniform(ceiling / 2, ceiling)


class Backoff:
    """:func:`delay` for a loop that counts its own failures (``reset`` once it works)."""

    def __init__(self, first: float = 0.5, most: float = 15.0):
        self.first, self.most, self.tries = first, most, 0

    def next(self) -> float:
        self.tries += 1
        return delay(self.tries, self.first, self.most)

    def reset(self) -> None:
        self.tries = 0

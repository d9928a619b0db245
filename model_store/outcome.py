"""Did training learn anything? A model's held-out loss next to its base's and a uniform guess.

A uniform guess over a charset of V characters scores ln V nats/char; a fine-tuned model is
measured against its base model's loss on the same held-out text (before fine-tuning). A
model has learned when it beats both by at least :data:`MARGIN`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

MARGIN = 0.01  # nats/char; less than this better counts as no better
SMALL_TEXT = 50_000  # characters; below this, more text is the first thing that helps


@dataclass(frozen=True)
class Outcome:
    loss: float  # the model's held-out loss, nats/char
    uniform: float  # ln V: every character of its charset equally likely
    base: float | None  # its base model's loss on the same held-out text (fine-tunes)
    chars: int  # characters of text it was trained on (training + held-out)

    @classmethod
    def from_card(cls, card: dict[str, Any]) -> Outcome | None:
        """The outcome recorded in a model card (None when it has no held-out loss)."""
        loss = card.get("heldout_loss_nats")
        if loss is None:
            return None
        corpus = card.get("corpus") or {}
        uniform = card.get("uniform_loss_nats")
        if uniform is None:
            uniform = math.log(max(2, corpus.get("vocab_size") or 2))
        return cls(loss, uniform, card.get("base_heldout_loss_nats"), corpus.get("chars") or 0)

    @property
    def beats_uniform(self) -> bool:
        return self.loss < self.uniform - MARGIN

    @property
    def beats_base(self) -> bool:
        return self.base is None or self.loss < self.base - MARGIN

    @property
    def learned(self) -> bool:
        return self.beats_uniform and self.beats_base

    @property
    def small_text(self) -> bool:
        return self.chars < SMALL_TEXT

    def figures(self) -> str:
        """'1.234 nats/char (base model: 1.456, uniform guess: 4.443)'."""
        others = [f"base model: {self.base:.3f}"] if self.base is not None else []
        others.append(f"uniform guess: {self.uniform:.3f}")
        return f"{self.loss:.3f} nats/char ({', '.join(others)})"

    def shortfall(self) -> str | None:
        """What it failed to beat, as a sentence, or None when it learned."""
        if self.learned:
            return None
        if not self.beats_uniform:
            return (
                f"Its held-out loss ({self.loss:.3f}) is no better than guessing every "
                f"character uniformly ({self.uniform:.3f})."
            )
        return (
            f"Its held-out loss ({self.loss:.3f}) is no better than its base model's "
            f"({self.base:.3f}): it did not learn this text's style."
        )

"""Deterministic tiny corpora for tests (never ../shared)."""

from __future__ import annotations

import random

SUBJECTS = ["the cat", "a dog", "the old man", "my friend", "the bird", "her sister"]
VERBS = ["sees", "likes", "finds", "follows", "remembers", "greets"]
OBJECTS = ["the house", "a tree", "the river", "the garden", "a small boat", "the moon"]


def make_text(chars: int = 8000, seed: int = 0, extra: str = "") -> str:
    """Sentences from a tiny grammar: easy to learn, deterministic."""
    rng = random.Random(seed)
    parts: list[str] = []
    size = 0
    while size < chars:
        s = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}{extra}. "
        s = s[0].upper() + s[1:]
        parts.append(s)
        size += len(s)
        if rng.random() < 0.1:
            parts.append("\n")
    return "".join(parts)[:chars]

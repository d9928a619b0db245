"""The character set of a model: an ordered list of characters, index = token id.

Order is stable: a charset built from a corpus is sorted by code point, and growing it for
fine-tuning appends the new characters (also sorted) after the existing ones, so ids the base
model learned keep their meaning.

Unknown characters in a seed are *dropped* and reported (see :meth:`Charset.encode`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Encoded:
    """Token ids of a text plus the distinct characters that were dropped as unknown."""

    ids: np.ndarray
    unknown: tuple[str, ...]


@dataclass(frozen=True)
class Charset:
    chars: tuple[str, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(set(self.chars)) != len(self.chars):
            raise ValueError("charset has duplicate characters")
        if any(len(c) != 1 for c in self.chars):
            raise ValueError("charset entries must be single characters")
        object.__setattr__(self, "_index", {c: i for i, c in enumerate(self.chars)})

    @classmethod
    def from_text(cls, text: str) -> Charset:
        return cls(tuple(sorted(set(text))))

    def extend(self, text: str) -> Charset:
        """A charset that keeps this one's ids and appends the new characters of ``text``."""
        new = sorted(set(text) - set(self.chars))
        return Charset(self.chars + tuple(new))

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, char: object) -> bool:
        return char in self._index

    def index(self, char: str) -> int:
        return self._index[char]

    def encode(self, text: str) -> Encoded:
        """Encode ``text``; characters not in the charset are dropped and listed in ``unknown``."""
        ids = [self._index[c] for c in text if c in self._index]
        unknown = tuple(sorted({c for c in text if c not in self._index}))
        return Encoded(np.asarray(ids, dtype=np.int32), unknown)

    def decode(self, ids: Iterable[int]) -> str:
        return "".join(self.chars[int(i)] for i in ids)

    def to_json(self) -> str:
        return json.dumps({"chars": list(self.chars)}, ensure_ascii=True)

    @classmethod
    def from_json(cls, data: str) -> Charset:
        obj = json.loads(data)
        chars = obj["chars"]
        if not isinstance(chars, list) or not chars:
            raise ValueError("charset must be a non-empty list")
        return cls(tuple(chars))

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

from .corpus import Stop, in_slices


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

    def ids(self, text: str, stop: Stop = None) -> np.ndarray:
        """The ids of ``text``, every character of which must be in the charset (else
        ValueError): vectorised, in slices, ``stop()`` asked between them (a cancel raises
        :class:`~model_store.errors.TrainingCancelled`)."""
        codes = np.array([ord(c) for c in self.chars], dtype=np.uint32)
        order = np.argsort(codes).astype(np.int32)
        known = codes[order]
        parts = [np.zeros(0, dtype=np.int32)]
        for piece in in_slices(text, stop):
            points = np.frombuffer(piece.encode("utf-32-le"), dtype=np.uint32)
            at = np.minimum(np.searchsorted(known, points), len(known) - 1)
            if not np.array_equal(known[at], points):
                raise ValueError("the text has characters the charset lacks")
            parts.append(order[at])
        return np.concatenate(parts)

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

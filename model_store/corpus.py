"""Reading and checking training text: UTF-8 only, no binary, normalised, split for held-out."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from .errors import CorpusError

HELDOUT_FRACTION = 0.1
MIN_CHARS = 1000  # below this there is nothing to learn a style from


def normalize_text(text: str) -> str:
    """Unify newlines and Unicode composition (so 'é' is one character, not two)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    return unicodedata.normalize("NFC", text)


def decode_corpus(data: bytes, *, what: str = "the text", min_chars: int = MIN_CHARS) -> str:
    """Decode uploaded or read bytes into a usable corpus, or raise :class:`CorpusError`."""
    if not data.strip():
        raise CorpusError(f"{what} is empty")
    if b"\x00" in data:
        raise CorpusError(f"{what} looks binary (it contains NUL bytes), not plain text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(
            f"{what} is not UTF-8 (invalid byte at position {exc.start}); save it as UTF-8 text"
        ) from None
    text = normalize_text(text)
    printable = sum(1 for c in text if c.isprintable() or c in "\n\t")
    if printable < 0.95 * len(text):
        raise CorpusError(f"{what} is mostly unprintable characters, not plain text")
    if len(text) < min_chars:
        raise CorpusError(
            f"{what} is too short to learn from ({len(text)} characters; at least {min_chars})"
        )
    return text


def read_corpus(path: str | Path, *, min_chars: int = MIN_CHARS) -> str:
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"no such file: {path}")
    return decode_corpus(path.read_bytes(), what=str(path), min_chars=min_chars)


def split_heldout(text: str, fraction: float = HELDOUT_FRACTION) -> tuple[str, str]:
    """Train on the first part, hold out the last ``fraction`` (like nanoGPT's 90/10 split)."""
    cut = int(len(text) * (1.0 - fraction))
    return text[:cut], text[cut:]

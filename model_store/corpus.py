"""Reading and checking training text: decoded, normalised, checked, split for held-out.

Accepted: UTF-8 (with or without a byte-order mark), and UTF-16 or UTF-32 with a byte-order
mark (what Windows Notepad saves as "Unicode"). Anything else is refused with a message that
names the problem and the fix.
"""

from __future__ import annotations

import codecs
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

from .errors import CorpusError, TrainingCancelled

S = TypeVar("S", bound=Sequence)
Stop = Callable[[], bool] | None

HELDOUT_FRACTION = 0.1
# Long steps on a text (counting, encoding) work in slices of this many characters and ask the
# caller's stop() between them: a cancel waits for one slice (tens of milliseconds), not the text.
SLICE_CHARS = 1 << 20
MIN_CHARS = 1000  # below this there is nothing to learn a style from
SAVE_AS_UTF8 = "save it as UTF-8 (in Notepad: File > Save as > Encoding: UTF-8)"
# Characters that never belong in text: controls (but newline and tab), lone surrogates,
# private-use and unassigned code points. (Python's isprintable() also refuses honest
# characters such as the non-breaking space and the zero-width joiner of emoji.)
_JUNK_CATEGORIES = {"Cc", "Cs", "Co", "Cn"}
_BOMS = (  # UTF-32 first: its little-endian mark starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def normalize_text(text: str) -> str:
    """Unify newlines and Unicode composition (so 'é' is one character, not two)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    return unicodedata.normalize("NFC", text)


def in_slices(seq: S, stop: Stop, size: int = SLICE_CHARS) -> Iterator[S]:
    """``seq`` in slices of ``size``; before each, :class:`TrainingCancelled` if ``stop()``."""
    for start in range(0, len(seq), size):
        if stop is not None and stop():
            raise TrainingCancelled("stopped while the text was prepared")
        yield seq[start : start + size]


def decode_corpus(
    data: bytes, *, what: str = "the text", min_chars: int = MIN_CHARS, stop: Stop = None
) -> str:
    """Decode uploaded or read bytes into a usable corpus, or raise :class:`CorpusError`.
    ``stop()`` is asked between slices (:class:`TrainingCancelled`)."""
    text = normalize_text(_decode(data, what))  # tens of milliseconds for 5 MB
    if not text.strip():
        raise CorpusError(f"{what} is empty", "empty")
    counts: Counter[str] = Counter()  # by distinct character
    for piece in in_slices(text, stop):
        counts.update(piece)
    junk = sum(
        n
        for c, n in counts.items()
        if c not in "\n\t" and unicodedata.category(c) in _JUNK_CATEGORIES
    )
    if junk > 0.05 * len(text):
        raise CorpusError(
            f"{what} is mostly unprintable characters, not plain text: upload a .txt file",
            "unprintable",
        )
    distinct = set(counts)
    if len(distinct) < 2:
        raise CorpusError(
            f"{what} has only one distinct character ({next(iter(distinct))!r}); "
            "there is no style to learn in it",
            "one_char",
            char=repr(next(iter(distinct))),
        )
    if len(text) < min_chars:
        raise CorpusError(
            f"{what} is too short to learn from ({len(text):,} characters; at least {min_chars:,})",
            "too_short",
            chars=len(text),
            min=min_chars,
        )
    return text


def _decode(data: bytes, what: str) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                label = encoding.upper().removesuffix("-SIG")
                raise CorpusError(
                    f"{what} is marked as {label} but is damaged at byte {exc.start:,}; "
                    f"{SAVE_AS_UTF8}",
                    "damaged",
                    encoding=label,
                    byte=exc.start,
                ) from None
    if b"\x00" in data:
        if _looks_utf16(data):
            raise CorpusError(
                f"{what} looks like UTF-16 without a byte-order mark, which can't be read "
                f"reliably; {SAVE_AS_UTF8}",
                "utf16_without_bom",
            )
        raise CorpusError(
            f"{what} looks binary (it contains NUL bytes), not plain text: upload a .txt file "
            "saved as UTF-8",
            "binary",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(
            f"{what} is not UTF-8 (byte 0x{data[exc.start]:02X} at position {exc.start:,} is "
            f"not valid UTF-8; the file may be Windows-1252 or Latin-1): {SAVE_AS_UTF8}",
            "not_utf8",
            byte=f"0x{data[exc.start]:02X}",
            position=exc.start,
        ) from None


def _looks_utf16(data: bytes) -> bool:
    """UTF-16 text has a NUL in nearly every even (or every odd) byte, few on the other side."""
    even, odd = data[0::2].count(0), data[1::2].count(0)
    half = max(1, len(data) // 2)
    return max(even, odd) > 0.8 * half and min(even, odd) < 0.05 * half


def read_corpus(path: str | Path, *, min_chars: int = MIN_CHARS) -> str:
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"no such file: {path}")
    return decode_corpus(path.read_bytes(), what=str(path), min_chars=min_chars)


def split_heldout(text: str, fraction: float = HELDOUT_FRACTION) -> tuple[str, str]:
    """Train on the first part, hold out the last ``fraction`` (like nanoGPT's 90/10 split)."""
    cut = int(len(text) * (1.0 - fraction))
    return text[:cut], text[cut:]

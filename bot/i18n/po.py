"""Reading gettext catalogues (``.pot`` / ``.po``) with the standard library only.

:func:`read` parses a catalogue into :class:`Entry` objects; :func:`translations` turns one
into a :class:`gettext.GNUTranslations` (built through an in-memory ``.mo``, so nothing
compiled is checked in), whose ``pgettext`` / ``npgettext`` and ``Plural-Forms`` rule the
bot uses at run time.
"""

from __future__ import annotations

import ast
import gettext
import io
import struct
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Entry:
    """One message: ``context`` is the bot's key (``msgctxt``), ``msgid`` the English."""

    context: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)


def _unquote(text: str) -> str:
    return ast.literal_eval(text)


def read(path: Path) -> list[Entry]:
    """The entries of a ``.po``/``.pot`` file (the header is the entry with an empty msgid)."""
    entries: list[Entry] = []
    entry, target = Entry(), None
    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            if target is not None:
                entries.append(entry)
            entry, target = Entry(), None
        elif line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            _append(entry, target, _unquote(line))
        else:
            keyword, _, value = line.partition(" ")
            target = keyword
            _start(entry, keyword, _unquote(value))
    return entries


def _start(entry: Entry, keyword: str, value: str) -> None:
    if keyword == "msgctxt":
        entry.context = value
    elif keyword == "msgid":
        entry.msgid = value
    elif keyword == "msgid_plural":
        entry.msgid_plural = value
    elif keyword.startswith("msgstr"):
        entry.msgstr.append(value)
    else:
        raise ValueError(f"unknown keyword {keyword!r}")


def _append(entry: Entry, target: str | None, value: str) -> None:
    if target == "msgctxt":
        entry.context = (entry.context or "") + value
    elif target == "msgid":
        entry.msgid += value
    elif target == "msgid_plural":
        entry.msgid_plural = (entry.msgid_plural or "") + value
    elif target and target.startswith("msgstr"):
        entry.msgstr[-1] += value


def mo_bytes(entries: list[Entry]) -> bytes:
    """The ``.mo`` file GNU msgfmt would make of ``entries`` (fuzzy and empty ones left out)."""
    pairs: dict[bytes, bytes] = {}
    for e in entries:
        if "fuzzy" in e.flags and e.msgid or not any(e.msgstr):
            continue
        key = e.msgid if e.msgid_plural is None else f"{e.msgid}\0{e.msgid_plural}"
        if e.context is not None:
            key = f"{e.context}\x04{key}"
        pairs[key.encode()] = "\0".join(e.msgstr).encode()
    keys = sorted(pairs)
    start = 7 * 4 + 16 * len(keys)
    ids, strs, offsets = b"", b"", []
    for k in keys:
        offsets.append((len(k), len(ids), len(pairs[k]), len(strs)))
        ids += k + b"\0"
        strs += pairs[k] + b"\0"
    key_table = b"".join(struct.pack("<2I", n, start + o) for n, o, _, _ in offsets)
    val_start = start + len(ids)
    val_table = b"".join(struct.pack("<2I", n, val_start + o) for _, _, n, o in offsets)
    header = struct.pack("<7I", 0x950412DE, 0, len(keys), 28, 28 + 8 * len(keys), 0, 0)
    return header + key_table + val_table + ids + strs


def translations(entries: list[Entry]) -> gettext.GNUTranslations:
    return gettext.GNUTranslations(io.BytesIO(mo_bytes(entries)))

"""Checks the catalogues: ``python -m bot.i18n.check`` prints every problem and exits 1 if
there is one (``tests/test_i18n.py`` runs the same checks).

A translation is a problem when it is missing or empty, marked fuzzy, has a placeholder the
English lacks (or lacks one it has), has the wrong number of plural forms, or is not in the
template any more; the template's failure reasons must match :mod:`jobs.reasons`.
"""

from __future__ import annotations

import re
import string
import sys
from pathlib import Path

from jobs import reasons

from . import PO_FILES, TEMPLATE, po

_NPLURALS = re.compile(r"nplurals\s*=\s*(\d+)")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _key(entry: po.Entry) -> tuple[str | None, str]:
    return entry.context, entry.msgid


def _nplurals(entries: list[po.Entry]) -> int:
    header = next((e.msgstr[0] for e in entries if not e.msgid and e.context is None), "")
    found = _NPLURALS.search(header)
    return int(found.group(1)) if found else 0


def translation_problems(path: Path, template: list[po.Entry]) -> list[str]:
    entries = po.read(path)
    found = {_key(e): e for e in entries if e.msgid}
    nplurals = _nplurals(entries)
    problems = [f"{path.name}: no Plural-Forms header"] if not nplurals else []
    for source in template:
        name = f"{path.name}: {source.context or ''} {source.msgid[:40]!r}"
        entry = found.pop(_key(source), None)
        if entry is None:
            problems.append(f"{name}: missing")
            continue
        problems += _entry_problems(name, source, entry, nplurals)
    problems += [f"{path.name}: {ctx} {msgid[:40]!r}: not in the template" for ctx, msgid in found]
    return problems


def _entry_problems(name: str, source: po.Entry, entry: po.Entry, nplurals: int) -> list[str]:
    if "fuzzy" in entry.flags:
        return [f"{name}: fuzzy"]
    if not all(form.strip() for form in entry.msgstr):
        return [f"{name}: not translated"]
    if source.msgid_plural is not None and len(entry.msgstr) != nplurals:
        return [f"{name}: {len(entry.msgstr)} plural forms, the language has {nplurals}"]
    english = placeholders(source.msgid_plural or source.msgid)
    problems = []
    for form in entry.msgstr:
        have = placeholders(form)
        if have - english or english - have - {"count"}:
            problems.append(f"{name}: placeholders {sorted(have)}, English has {sorted(english)}")
    return problems


def template_problems(template: list[po.Entry]) -> list[str]:
    problems = []
    for entry in template:
        if entry.msgid_plural is not None and "count" not in placeholders(entry.msgid_plural):
            problems.append(f"{entry.context}: a plural message must use {{count}}")
    have = {e.context.removeprefix("reason."): e.msgid for e in template if _is_reason(e)}
    if have != reasons.ENGLISH:
        problems.append("lstm_bot.pot: the reason.* messages differ from jobs/reasons.py")
    return problems


def _is_reason(entry: po.Entry) -> bool:
    return bool(entry.context and entry.context.startswith("reason."))


def problems() -> list[str]:
    template = [e for e in po.read(TEMPLATE) if e.msgid]
    found = template_problems(template)
    for path in PO_FILES.values():
        found += translation_problems(path, template)
    return found


def main() -> int:
    found = problems()
    for problem in found:
        sys.stdout.write(problem + "\n")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

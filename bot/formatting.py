"""Text formatting for Discord messages (pure functions, no Discord calls)."""

from __future__ import annotations

import math
from typing import Any

import discord

from model_store.errors import PROBLEMS
from model_store.outcome import Outcome

from .i18n import Message, Num, t

MESSAGE_LIMIT = 2000  # characters in a message's content
FIELD_LIMIT = 1024  # characters in an embed field's value
FOOTER_LIMIT = 300  # our own cap on a generated message's footer line
CURSOR = " ▌"  # ends the text of a reply being written


def escape(text: str) -> str:
    """Show text literally: no markdown, no masked links (mentions are disarmed separately)."""
    return discord.utils.escape_markdown(text)


def model_name(name: str) -> str:
    """A model's name where markdown applies (embed titles and fields, a reply's footer):
    shown literally (``a__b__c`` is not underlined). In a code span, use :func:`code`."""
    return escape(name)


def code(text: str) -> str:
    """``text`` as inline code (a backtick inside would end it early, so it becomes ')."""
    return "`" + text.replace("`", "'") + "`"


def escape_within(text: str, limit: int, *, keep_end: bool = False) -> str:
    """``text`` escaped, shortened with "…" so that the result has at most ``limit`` characters.

    Escaping can double a text's length, so the cut is made on the raw text (never inside an
    escape) and measured after escaping. ``keep_end`` keeps the end instead of the start."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    if limit < 1:
        return ""

    def piece(n: int) -> str:
        return text[len(text) - n :] if keep_end else text[:n]

    lo, hi = 0, len(text)
    while lo < hi:  # the longest piece whose escaped form and "…" fit
        mid = (lo + hi + 1) // 2
        if len(escape(piece(mid))) < limit:
            lo = mid
        else:
            hi = mid - 1
    return "…" + escape(piece(lo)) if keep_end else escape(piece(lo)) + "…"


def generated_message(
    seed: str, continuation: str, footer: str, *, cursor: bool = False
) -> tuple[str, bool]:
    """The seed in bold, then the continuation, then a small footer line (already escaped),
    within Discord's 2000 characters; and whether the whole text is shown.

    When it does not all fit, the seed keeps its end (at most a third of the room unless the
    continuation needs less) and the continuation its start, each marked with "…"."""
    tail = (CURSOR if cursor else "") + "\n-# " + shorten(footer, FOOTER_LIMIT)
    room = MESSAGE_LIMIT - len(tail) - len("****")
    bold, rest = escape(seed), escape(continuation)
    if len(bold) + len(rest) <= room:
        return f"**{bold}**{rest}{tail}", True
    bold = escape_within(seed, min(len(bold), max(room // 3, room - len(rest))), keep_end=True)
    rest = escape_within(continuation, room - len(bold))
    return f"**{bold}**{rest}{tail}", False


def sentence(text: str) -> str:
    """``text`` (an explanation from the model store or the job queue) as a sentence."""
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def store_problem(kind: str, code: str, params: dict[str, Any]) -> Message | None:
    """A model store problem (a ``kind`` of :data:`model_store.errors.PROBLEMS`, e.g. "corpus"
    for a :class:`CorpusError`; its ``code`` and ``params``) to show in the reader's language;
    None for a problem this bot doesn't know or whose parameters don't fit (show its English)."""
    wanted = PROBLEMS.get(kind, {}).get(code)
    if wanted is None or not set(wanted) <= set(params):
        return None
    values = {k: Num(v) if isinstance(v, int) else v for k, v in params.items() if k in wanted}
    return Message(f"{kind}.{code}", values)


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def loss_text(card: dict, locale: object = None) -> str:
    loss = card.get("heldout_loss_nats")
    if isinstance(loss, (int, float)):
        return t(locale, "loss.nats", loss=Num(loss, ".3f"))
    return t(locale, "loss.unknown")


def figures(outcome: Outcome, locale: object = None) -> str:
    """'1.234 nats/char (base model: 1.456, uniform guess: 4.443)', in the reader's language."""
    others = []
    if outcome.base is not None:
        others.append(t(locale, "outcome.base", loss=Num(outcome.base, ".3f")))
    others.append(t(locale, "outcome.uniform", loss=Num(outcome.uniform, ".3f")))
    return t(locale, "outcome.figures", loss=Num(outcome.loss, ".3f"), others=", ".join(others))


def progress_bar(fraction: float, width: int = 20) -> str:
    filled = int(round(max(0.0, min(1.0, fraction)) * width))
    return "▰" * filled + "▱" * (width - filled)


def duration(seconds: float | None) -> str:
    """``1 h 02 min``, ``3 min 05 s``, ``9 s`` (the same in every language the bot speaks),
    rounded up: a moment that is not zero never shows as "0 s"."""
    if seconds is None:
        return "?"
    seconds = math.ceil(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h} h {m:02d} min"
    return f"{m} min {s:02d} s" if m else f"{s} s"

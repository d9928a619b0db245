"""Text formatting for Discord messages (pure functions, no Discord calls)."""

from __future__ import annotations

import discord

MESSAGE_LIMIT = 2000


def escape(text: str) -> str:
    """Show text literally: no markdown, no masked links (mentions are disarmed separately)."""
    return discord.utils.escape_markdown(text)


def generated_message(seed: str, continuation: str, footer: str, *, cursor: bool = False) -> str:
    """The seed in bold, then the continuation, then a small footer line."""
    body = f"**{escape(seed)}**{escape(continuation)}"
    if cursor:
        body += " ▌"
    return f"{body}\n-# {footer}"


def fits(content: str) -> bool:
    return len(content) <= MESSAGE_LIMIT


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def loss_text(card: dict) -> str:
    loss = card.get("heldout_loss_nats")
    return f"{loss:.3f} nats/char" if isinstance(loss, (int, float)) else "unknown"


def progress_bar(fraction: float, width: int = 20) -> str:
    filled = int(round(max(0.0, min(1.0, fraction)) * width))
    return "▰" * filled + "▱" * (width - filled)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h} h {m:02d} min"
    return f"{m} min {s:02d} s" if m else f"{s} s"

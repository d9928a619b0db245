"""Render fake messages and interactions as plain text for a terminal."""

from __future__ import annotations

import datetime
import textwrap
from typing import TYPE_CHECKING, Any

from .models import FakeMessage, iter_components
from .rules import parse_timestamp

if TYPE_CHECKING:
    from .interactions import FakeInteraction

_BUTTON_STYLES = {1: "primary", 2: "secondary", 3: "success", 4: "danger", 5: "link"}


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB"):
        if size < 1024 or unit == "MiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def render_embed(embed: dict[str, Any], width: int = 78) -> list[str]:
    """An embed in a box: every line, wrapped ones included, starts with the border."""
    bar = "| "
    room = max(10, width - len(bar))
    lines: list[str] = []

    def add(text: str) -> None:
        for para in str(text).splitlines() or [""]:
            wrapped = textwrap.wrap(para, room, break_long_words=True, replace_whitespace=False)
            lines.extend(bar + w for w in wrapped or [""])

    if embed.get("author", {}).get("name"):
        add(embed["author"]["name"])
    if embed.get("title"):
        add(f"** {embed['title']} **")
    if embed.get("description"):
        add(embed["description"])
    for field in embed.get("fields") or []:
        add(f"{field.get('name', '')}: {field.get('value', '')}")
    if embed.get("image", {}).get("url"):
        add(f"[image {embed['image']['url']}]")
    footer = [embed.get("footer", {}).get("text") or ""]
    when = parse_timestamp(embed["timestamp"]) if embed.get("timestamp") else None
    if when is not None:  # Discord shows it after the footer, in the reader's time zone
        footer.append(when.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    if any(footer):
        add("-- " + " · ".join(p for p in footer if p))
    return ["+" + "-" * (width - 1)] + lines + ["+" + "-" * (width - 1)]


def render_components(components: list[dict[str, Any]], *, show_ids: bool = True) -> list[str]:
    """Buttons and selects, a row a line; ``show_ids=False`` leaves out the custom ids."""
    lines: list[str] = []
    for row in components:
        if row.get("type") != 1:
            continue
        parts = []
        for comp in row.get("components") or []:
            label = comp.get("label") or (comp.get("emoji") or {}).get("name") or "?"
            if comp.get("type") == 2:
                style = _BUTTON_STYLES.get(comp.get("style", 2), "")
                disabled = " (disabled)" if comp.get("disabled") else ""
                target = comp.get("url") or comp.get("custom_id")
                where = f" <{style}:{target}>" if show_ids else ""
                parts.append(f"[ {label} ]{disabled}{where}")
            else:
                placeholder = comp.get("placeholder") or "select"
                options = ", ".join(o.get("label", "") for o in comp.get("options") or [])
                where = f" <{comp.get('custom_id')}>" if show_ids else ""
                parts.append(f"[ {placeholder} v ] {options}{where}")
        if parts:
            lines.append("  ".join(parts))
    # Components v2 text displays (type 10) carry text of their own.
    for comp in iter_components(components):
        if comp.get("type") == 10 and comp.get("content"):
            lines.append(str(comp["content"]))
    return lines


def render_message(msg: FakeMessage, width: int = 78, *, show_ids: bool = True) -> str:
    """A message as readable text: header, content, embeds, attachments, buttons
    (``show_ids=False``: without their custom ids)."""
    tags = []
    if msg.author.bot:
        tags.append("BOT")
    if msg.ephemeral:
        tags.append("only you can see this")
    if msg.loading:
        tags.append("thinking...")
    if msg.edits:
        tags.append(f"edited x{len(msg.edits)}")
    if msg.deleted:
        tags.append("deleted")
    header = f"{msg.author.global_name or msg.author.name}" + (
        f" [{', '.join(tags)}]" if tags else ""
    )
    lines = [header]
    if msg.content:
        lines.extend("  " + line for line in msg.content.splitlines())
    for embed in msg.embeds:
        lines.extend("  " + line for line in render_embed(embed, width - 2))
    for att in msg.attachments:
        lines.append(f"  [file] {att.filename} ({human_size(att.size)})")
    lines.extend("  " + line for line in render_components(msg.components, show_ids=show_ids))
    if msg.reactions:
        lines.append("  " + " ".join(msg.reactions))
    return "\n".join(lines)


def render_interaction(
    ix: FakeInteraction, width: int = 78, *, show_deleted: bool = True, show_ids: bool = True
) -> str:
    """The interaction's @original and followups, or its autocomplete choices / modal.

    ``show_deleted=False`` leaves out deleted messages, as a Discord client does;
    ``show_ids=False`` the components' custom ids."""
    headers = {
        3: f"> {ix.user.name} clicked {ix.name!r}",
        4: f"> {ix.user.name} is typing in /{ix.name}",
        5: f"> {ix.user.name} submitted modal {ix.name!r}",
    }
    if ix.payload.get("data", {}).get("type", 1) != 1:  # a context menu command
        headers[2] = f"> {ix.user.name} used {ix.name!r} (Apps menu)"
    parts = [headers.get(ix.type, f"> /{ix.name} by {ix.user.name}")]
    if ix.choices is not None:
        parts.extend(f"  - {c.get('name')} = {c.get('value')!r}" for c in ix.choices)
    if ix.modal is not None:
        parts.append(f"  [modal: {ix.modal.get('title', '')}]")
    for msg in ix.messages:
        if show_deleted or not msg.deleted:
            parts.append(render_message(msg, width, show_ids=show_ids))
    if not ix.acked:
        parts.append("  (no response yet)")
    return "\n".join(parts)

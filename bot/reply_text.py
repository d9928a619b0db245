"""A generated reply, read back: what its buttons carry, and its text from the message itself.

Nothing about a reply is stored. The buttons under it carry the model and the options in their
custom id (:class:`ReplyState`, well under Discord's 100 characters); the text is the
message's own: its content when the whole text is shown (escaping is undone, and the result
checked by escaping it again), else the ``generated.txt`` attachment (the seed, then the
continuation; the custom id says where the seed ends). :func:`fits_whole` is what the final
reply uses to choose between the two, so every reply with buttons can be read back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import aiohttp
import discord

from model_store import SampleOptions

from .formatting import generated_message

ATTACHMENT = "generated.txt"
FOOTER = "\n-# "
MAX_TEMPERATURE = 2.0
_NUMBER = r"[0-9][0-9.e+-]*"
_NAME = r"[a-z0-9][a-z0-9_-]*"  # model_store.store.check_name
STATE_PATTERN = rf"(?P<state>[0-9]+:{_NAME}:{_NUMBER}:[0-9]+:{_NUMBER}:[0-9]+:[0-9]*)"


def _carried(value: float) -> float:
    """``value`` as a custom id carries it: 4 decimals, and -0 is 0."""
    return round(value, 4) + 0.0


def _number(value: float) -> str:
    return format(_carried(value), "g")


def reply_options(
    temperature: float, length: int, top_p: float = 1.0, rng_seed: int | None = None
) -> SampleOptions:
    """The options of a reply, as its buttons will carry them (so the first part and every
    Continue use the same numbers; ``-0.0`` is 0): every way to write a reply builds its
    options here. :class:`ValueError` when a value is out of range (or not a number)."""
    if not 0.0 <= temperature <= MAX_TEMPERATURE:  # (/generate's range: 0-2)
        raise ValueError(f"temperature must be between 0 and {MAX_TEMPERATURE}")
    return SampleOptions(
        temperature=_carried(temperature),
        length=length,
        top_p=_carried(top_p),
        rng_seed=rng_seed,
    )


@dataclass(frozen=True)
class ReplyState:
    """What Continue and Regenerate need besides the text: ``model_id:model_name:temperature:
    length:top_p:seed_length:rng_seed`` (the rng seed empty when none was given). The name
    tells a deleted model from a newer one that took its row id."""

    model_id: int
    model_name: str
    temperature: float
    length: int
    top_p: float
    seed_length: int
    rng_seed: int | None = None

    def encode(self) -> str:
        rng = "" if self.rng_seed is None else str(self.rng_seed)
        return (
            f"{self.model_id}:{self.model_name}:{_number(self.temperature)}:{self.length}:"
            f"{_number(self.top_p)}:{self.seed_length}:{rng}"
        )

    @classmethod
    def decode(cls, text: str) -> ReplyState:
        model, name, temperature, length, top_p, seed_length, rng = text.split(":")
        return cls(
            int(model),
            name,
            float(temperature),
            int(length),
            float(top_p),
            int(seed_length),
            int(rng) if rng else None,
        )

    @classmethod
    def of(
        cls, model_id: int, model_name: str, options: SampleOptions, seed_length: int
    ) -> ReplyState:
        return cls(
            model_id,
            model_name,
            options.temperature,
            options.length,
            options.top_p,
            seed_length,
            options.rng_seed,
        )

    def options(self, *, rng_seed: int | None) -> SampleOptions:
        return reply_options(
            min(2.0, max(0.0, self.temperature)),
            max(1, self.length),
            min(1.0, max(0.01, self.top_p)),
            rng_seed,
        )


def footer_of(content: str) -> str | None:
    """The footer line of a generated reply (what follows ``-#``), or None."""
    at = content.find(FOOTER)
    return None if at < 0 else content[at + len(FOOTER) :]


def parse_whole(content: str, seed_length: int) -> tuple[str, str] | None:
    """The seed and the continuation of a reply that shows its whole text, or None when the
    content is not exactly what :func:`generated_message` makes of them."""
    footer = footer_of(content)
    if footer is None or not content.startswith("**"):
        return None
    body = content[2 : content.find(FOOTER)]
    seed, at = _unescape(body, 0, seed_length)
    if len(seed) != seed_length or body[at : at + 2] != "**":
        return None
    text, _ = _unescape(body, at + 2, None)
    return (seed, text) if fits_whole(seed, text, footer) == content else None


def fits_whole(seed: str, text: str, footer: str) -> str | None:
    """The reply's content when it shows the whole text and reads back exactly, else None."""
    content, whole = generated_message(seed, text, footer)
    if not whole:
        return None
    return content if _readable(content, seed, text) else None


def _readable(content: str, seed: str, text: str) -> bool:
    """Undoing the escapes gives back ``seed`` and ``text`` (not so for a link that holds a
    backslash, which Discord's escaping leaves as it is)."""
    body = content[2 : content.find(FOOTER)]
    got_seed, at = _unescape(body, 0, len(seed))
    got_text, _ = _unescape(body, at + 2, None)
    return (got_seed, got_text) == (seed, text) and body[at : at + 2] == "**"


def _unescape(body: str, start: int, count: int | None) -> tuple[str, int]:
    """Read ``count`` characters (all when None) of escaped text from ``body[start:]``;
    return them and where reading stopped."""
    out: list[str] = []
    i = start
    while i < len(body) and (count is None or len(out) < count):
        if body[i] == "\\" and i + 1 < len(body):
            i += 1
        out.append(body[i])
        i += 1
    return "".join(out), i


class Unreadable(Exception):
    """The message no longer holds a text the buttons can work with."""


@dataclass(frozen=True)
class Reply:
    seed: str
    text: str  # the continuation
    whole: bool  # the message's content shows all of it (no attachment)


async def read_reply(message: discord.Message, state: ReplyState) -> Reply:
    """The seed and the continuation of a generated reply (its content, or its attachment)."""
    footer = footer_of(message.content or "")
    if footer is None:
        raise Unreadable("no footer")
    attachment = discord.utils.get(message.attachments, filename=ATTACHMENT)
    if attachment is None:  # (a preview would read as a whole text ending in "…")
        found = parse_whole(message.content, state.seed_length)
        if found is None:
            raise Unreadable("the content is not a whole reply")
        return Reply(*found, whole=True)
    try:
        whole = (await attachment.read()).decode("utf-8")
    except (discord.HTTPException, aiohttp.ClientError, TimeoutError, UnicodeDecodeError) as exc:
        raise Unreadable(f"attachment: {exc!r}") from None
    seed, text = whole[: state.seed_length], whole[state.seed_length :]
    if generated_message(seed, text, footer)[0] != message.content:
        raise Unreadable("the attachment does not match the message")
    return Reply(seed, text, whole=False)


def word_start(text: str, limit: int = 40) -> str:
    """``text`` from its first word boundary within ``limit`` characters (a cut text should
    not start mid-word); as it is when there is none."""
    match = re.search(r"\s", text[:limit])
    return text[match.end() :] if match and match.end() < len(text) else text

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

import discord

from bot.downloads import DownloadFailed, download
from bot.formatting import CURSOR, MESSAGE_LIMIT, generated_message
from bot.i18n import LANGUAGES, t
from model_store import SampleOptions

ATTACHMENT = "generated.txt"
FOOTER = "\n-# "
MAX_TEMPERATURE = 2.0
PREVIEW_SLACK = 4  # a preview fills its message to within a few characters
MAX_SEED_FOUND = 4000  # how far into an attached text a seed without its buttons is looked for
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


def parse_whole(content: str, seed_length: int | None = None) -> tuple[str, str] | None:
    """The seed and the continuation of a reply that shows its whole text, or None when the
    content is not exactly what :func:`generated_message` makes of them. Without
    ``seed_length`` the seed is the bold part (every ``*`` in the text is escaped)."""
    footer = footer_of(content)
    if footer is None or not content.startswith("**"):
        return None
    body = content[2 : content.find(FOOTER)]
    if seed_length is None:
        bold, at = _bold(body)
        if bold is None:
            return None
        seed = bold
    else:
        seed, at = _unescape(body, 0, seed_length)
        if len(seed) != seed_length:
            return None
    if body[at : at + 2] != "**":
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


def _bold(body: str) -> tuple[str | None, int]:
    """The unescaped text before the first unescaped ``**`` of ``body`` and where that is;
    None when there is none."""
    out: list[str] = []
    i = 0
    while i < len(body):
        if body.startswith("**", i):
            return "".join(out), i
        if body[i] == "\\" and i + 1 < len(body):
            i += 1
        out.append(body[i])
        i += 1
    return None, i


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


class NotAReply(Unreadable):
    """The message is not a generated reply (no bold seed, no footer line)."""


class StillWriting(Exception):
    """The reply is still being written (its cursor and "writing…" show): read it after."""


@dataclass(frozen=True)
class Reply:
    seed: str
    text: str  # the continuation
    whole: bool  # the message's content shows all of it (no attachment)


def is_writing(content: str) -> bool:
    """A reply being streamed: the cursor ends its text and its footer says "writing…" (in
    whichever language it was written)."""
    footer = footer_of(content)
    if footer is None or not content.startswith("**"):
        return False
    cursor = content[: content.find(FOOTER)].endswith(CURSOR)
    return cursor and any(footer.endswith(t(lang, "generate.writing")) for lang in LANGUAGES)


async def read_reply(message: discord.Message, state: ReplyState | None = None) -> Reply:
    """The seed and the continuation of a generated reply, without markdown and footer: its
    content, or its ``generated.txt`` attachment. Every reader goes through here: the buttons
    (``state`` from their custom id) and *Continue this text* (``state`` None: the seed's end
    is found in the content, so a reply that lost its buttons reads as well).

    Raises :class:`NotAReply`, :class:`StillWriting`, :class:`Unreadable`, and
    :class:`bot.downloads.DownloadFailed` for a download that may work if tried again."""
    content = message.content or ""
    footer = footer_of(content)
    if footer is None or not content.startswith("**"):
        raise NotAReply("no bold seed and footer")
    if is_writing(content):
        raise StillWriting()
    seed_length = None if state is None else state.seed_length
    attachment = discord.utils.get(message.attachments, filename=ATTACHMENT)
    if attachment is None:  # (a preview would read as a whole text ending in "…")
        found = parse_whole(content, seed_length)
        if found is None:
            raise Unreadable("the content is not a whole reply")
        return Reply(*found, whole=True)
    try:
        whole = (await download(attachment)).decode("utf-8")
    except DownloadFailed as exc:
        if exc.gone:
            raise Unreadable(f"attachment: {exc}") from None
        raise
    except UnicodeDecodeError as exc:
        raise Unreadable(f"attachment: {exc!r}") from None
    for length in _seed_lengths(content, whole, seed_length):
        seed, text = whole[:length], whole[length:]
        if generated_message(seed, text, footer)[0] == content:
            return Reply(seed, text, whole=False)
    raise Unreadable("the attachment does not match the message")


def text_so_far(content: str, state: ReplyState) -> tuple[str, str] | None:
    """The seed and the text that a reply being written shows (None when it is not being
    written): a reply left so by a process that died, to be finished with what it shows. A
    preview (past 2000 characters) shows the start of the text and the end of the seed, which
    then is all that is left of them."""
    if not is_writing(content):
        return None
    body = content[2 : content.find(FOOTER) - len(CURSOR)]
    seed, at = _bold(body)
    if seed is None:
        return None
    text, _ = _unescape(body, at + 2, None)
    if len(content) >= MESSAGE_LIMIT - PREVIEW_SLACK:  # a preview: each part cut with "…"
        text = text.removesuffix("…")
        if len(seed) != state.seed_length:
            seed = seed.removeprefix("…")
    return seed, text


def _seed_lengths(content: str, whole: str, known: int | None) -> list[int]:
    """Where the seed may end in an attached text: ``known`` (from the buttons), else what
    the preview's bold part says (all of the seed, or its end after "…")."""
    if known is not None:
        return [known]
    bold, _ = _bold(content[2 : content.find(FOOTER)])
    if bold is None:
        return []
    found = [len(bold)] if whole.startswith(bold) else []
    tail = bold.removeprefix("…")
    ends = range(len(tail), min(len(whole), MAX_SEED_FOUND) + 1)
    return found + [n for n in ends if n != len(bold) and whole[:n].endswith(tail)]


def word_start(text: str, limit: int = 40) -> str:
    """``text`` from its first word boundary within ``limit`` characters (a cut text should
    not start mid-word); as it is when there is none."""
    match = re.search(r"\s", text[:limit])
    return text[match.end() :] if match and match.end() < len(text) else text

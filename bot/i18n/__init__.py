"""The bot's languages: what a user reads follows their Discord language
(``interaction.locale``) when the bot speaks it, English otherwise.

- ``en.py`` holds every message the bot shows in Discord, by key: the source text.
- ``tr.py`` (Turkish) and ``pt_br.py`` (Brazilian Portuguese) hold the same keys, with the
  same ``{placeholders}`` (``tests/test_i18n.py`` checks both).
- Each catalogue's ``COMMANDS`` translates the slash commands' descriptions, option
  descriptions and choice names, keyed by their English text (:mod:`bot.i18n.translator`);
  command and option names stay English.

:func:`t` fills a message for a locale. Numbers whose separators differ by language
(``1,234.5`` in English, ``1.234,5`` in Turkish and Portuguese) are passed as :class:`Num`.
:class:`Message` is a message to be shown later in the reader's language (errors carry one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import en, pt_br, tr

ENGLISH, TURKISH, PORTUGUESE = "en", "tr", "pt-BR"
LANGUAGES = (ENGLISH, TURKISH, PORTUGUESE)
CATALOGUES: dict[str, dict[str, str]] = {
    ENGLISH: en.MESSAGES,
    TURKISH: tr.MESSAGES,
    PORTUGUESE: pt_br.MESSAGES,
}
COMMAND_TEXTS: dict[str, dict[str, str]] = {TURKISH: tr.COMMANDS, PORTUGUESE: pt_br.COMMANDS}
_SWAP_SEPARATORS = str.maketrans({",": ".", ".": ","})


def language(locale: Any) -> str:
    """The bot's language for a Discord locale (``discord.Locale`` or its value, e.g. "tr",
    "pt-BR", "en-GB"), a language of :data:`LANGUAGES`, or ``None`` (English)."""
    value = str(getattr(locale, "value", locale) or "")
    if value.lower().startswith("tr"):
        return TURKISH
    if value.lower() in ("pt-br", "pt"):
        return PORTUGUESE
    return ENGLISH


@dataclass(frozen=True)
class Num:
    """A number formatted with ``spec`` (e.g. ``","``, ``",.3f"``, ``"g"``), with the
    language's thousands and decimal separators."""

    value: float
    spec: str = ","

    def format(self, lang: str) -> str:
        text = format(self.value, self.spec)
        return text if lang == ENGLISH else text.translate(_SWAP_SEPARATORS)


def t(locale: Any, key: str, /, **params: Any) -> str:
    """The message ``key`` in the language of ``locale``, its placeholders filled."""
    lang = language(locale)
    template = CATALOGUES[lang].get(key) or CATALOGUES[ENGLISH][key]
    values = {
        name: value.text(lang) if isinstance(value, Message) else value
        for name, value in params.items()
    }
    values = {
        name: value.format(lang) if isinstance(value, Num) else value
        for name, value in values.items()
    }
    return template.format(**values)


@dataclass(frozen=True)
class Message:
    """A message to show later, in the reader's language (``str()`` gives the English)."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, locale: Any) -> str:
        return t(locale, self.key, **self.params)

    def __str__(self) -> str:
        return self.text(ENGLISH)


__all__ = ["LANGUAGES", "Message", "Num", "language", "t"]

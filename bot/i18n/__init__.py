"""The bot's languages: what a user reads follows their Discord language
(``interaction.locale``) when the bot speaks it, English otherwise.

The messages are gettext catalogues (``docs/translating.md``):

- ``lstm_bot.pot`` holds every message the bot shows in Discord: its key as ``msgctxt``, its
  English as ``msgid`` (and ``msgid_plural`` where a number chooses the form, always the
  ``{count}`` placeholder).
- ``tr.po`` (Turkish) and ``pt_BR.po`` (Brazilian Portuguese) translate them
  (:mod:`bot.i18n.check` finds a missing, fuzzy or wrongly placed message).
- Entries with the context ``command`` translate the slash commands' descriptions, option
  descriptions and choice names, keyed by their English text (:mod:`bot.i18n.translator`);
  command and option names stay English.

:func:`t` fills a message for a locale. Numbers whose separators differ by language
(``1,234.5`` in English, ``1.234,5`` in Turkish and Portuguese) are passed as :class:`Num`.
:class:`Message` is a message to be shown later in the reader's language (errors carry one).
The runtime needs only the standard library's :mod:`gettext`.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import po

ENGLISH, TURKISH, PORTUGUESE = "en", "tr", "pt-BR"
LANGUAGES = (ENGLISH, TURKISH, PORTUGUESE)
FOLDER = Path(__file__).resolve().parent
TEMPLATE = FOLDER / "lstm_bot.pot"
PO_FILES = {TURKISH: FOLDER / "tr.po", PORTUGUESE: FOLDER / "pt_BR.po"}
COMMAND = "command"  # the msgctxt of the commands' texts

SOURCE: dict[str, po.Entry] = {
    e.context: e for e in po.read(TEMPLATE) if e.context and e.context != COMMAND
}
_ENTRIES = {lang: po.read(path) for lang, path in PO_FILES.items()}
_TRANSLATIONS: dict[str, gettext.NullTranslations] = {
    ENGLISH: gettext.NullTranslations(),
    **{lang: po.translations(entries) for lang, entries in _ENTRIES.items()},
}
_COMMANDS: dict[str, dict[str, str]] = {
    lang: {
        e.msgid: e.msgstr[0]
        for e in entries
        if e.context == COMMAND and e.msgstr[0] and "fuzzy" not in e.flags
    }
    for lang, entries in _ENTRIES.items()
}
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


def has_message(key: str) -> bool:
    return key in SOURCE


def template(lang: str, key: str, count: Any = None) -> str:
    """The message ``key`` in ``lang``, unfilled; a plural message's form for ``count``."""
    entry, translations = SOURCE[key], _TRANSLATIONS[lang]
    if entry.msgid_plural is None:
        return translations.pgettext(key, entry.msgid)
    if count is None:
        raise TypeError(f"{key} has plural forms: give its number as count=")
    n = count.value if isinstance(count, Num) else count
    return translations.npgettext(key, entry.msgid, entry.msgid_plural, int(n))


def command_text(lang: str, english: str) -> str | None:
    """A command's description or choice name in ``lang``, or ``None`` where untranslated."""
    return _COMMANDS.get(lang, {}).get(english)


def t(locale: Any, key: str, /, **params: Any) -> str:
    """The message ``key`` in the language of ``locale``, its placeholders filled."""
    lang = language(locale)
    values = {
        name: value.text(lang) if isinstance(value, Message) else value
        for name, value in params.items()
    }
    values = {
        name: value.format(lang) if isinstance(value, Num) else value
        for name, value in values.items()
    }
    return template(lang, key, params.get("count")).format(**values)


@dataclass(frozen=True)
class Message:
    """A message to show later, in the reader's language (``str()`` gives the English)."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, locale: Any) -> str:
        return t(locale, self.key, **self.params)

    def __str__(self) -> str:
        return self.text(ENGLISH)


__all__ = ["LANGUAGES", "Message", "Num", "has_message", "language", "t"]

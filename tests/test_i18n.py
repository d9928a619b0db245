"""Every message the bot shows exists in every language it speaks, with the same placeholders,
and no reply is built from an English string that bypasses the catalogues."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import discord
import pytest
from discord import app_commands

from bot.i18n import CATALOGUES, COMMAND_TEXTS, ENGLISH, Message, Num, language, t
from bot.i18n.translator import CatalogueTranslator
from jobs import reasons
from jobs.records import FINISHED, QUEUED, RUNNING
from model_store.errors import PROBLEMS

ROOT = Path(__file__).resolve().parents[1]
# Modules that talk to a terminal, not to Discord users.
TERMINAL = {"bot/cli.py", "bot/console.py", "bot/progress.py", "bot/__main__.py"}
SOURCES = sorted(
    p
    for folder in ("bot", "cogs")
    for p in (ROOT / folder).rglob("*.py")
    if str(p.relative_to(ROOT)) not in TERMINAL and "i18n" not in p.parts
)
_KEY_USE = re.compile(
    r"""(?:\bt\(\s*[\w.]+\s*,\s*|UserFacingError\(\s*|Message\(\s*)(f?)["']([a-z_{][\w.{}]*)["']"""
)
# Keys built at run time from a value: the values they take.
FAMILIES = {
    "effort.{effort}": ["quick", "normal", "thorough"],
    "status.{job.status}": [QUEUED, RUNNING, *FINISHED],
    "status.{status}": [QUEUED, RUNNING, *FINISHED],
    "reason.{code}": list(reasons.ENGLISH),
    "{kind}.{code}": [f"{kind}.{code}" for kind, codes in PROBLEMS.items() for code in codes],
}


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@pytest.mark.parametrize("lang", [lang for lang in CATALOGUES if lang != ENGLISH])
def test_every_message_is_translated_with_the_same_placeholders(lang: str) -> None:
    english, other = CATALOGUES[ENGLISH], CATALOGUES[lang]
    assert sorted(set(english) - set(other)) == [], f"missing in {lang}"
    assert sorted(set(other) - set(english)) == [], f"unknown keys in {lang}"
    for key, text in english.items():
        assert other[key].strip() or not text.strip(), f"{lang} {key} is empty"
        assert placeholders(other[key]) == placeholders(text), f"{lang} {key}"


def test_every_failure_reason_has_a_message_in_every_language() -> None:
    """The bot shows a job's failure or retry reason (jobs/reasons.py) in the reader's
    language, with the parameters the worker sends."""
    for lang, catalogue in CATALOGUES.items():
        for code, english in reasons.ENGLISH.items():
            key = f"reason.{code}"
            assert key in catalogue, f"{lang} lacks {key}"
            assert placeholders(catalogue[key]) == placeholders(english), f"{lang} {key}"
    assert {k for k in CATALOGUES[ENGLISH] if k.startswith("reason.")} == {
        f"reason.{code}" for code in reasons.ENGLISH
    }


def keys_used_in_code() -> set[str]:
    keys = set()
    for path in SOURCES:
        for match in _KEY_USE.finditer(path.read_text(encoding="utf-8")):
            key = match.group(2)
            if match.group(1):  # an f-string: a family of keys
                assert key in FAMILIES, f"{path}: unknown key family {key!r}"
                prefix = key.split("{")[0]
                keys.update(prefix + value for value in FAMILIES[key])
            else:
                keys.add(key)
    return keys


def test_every_key_the_code_uses_exists() -> None:
    used = keys_used_in_code()
    assert len(used) > 100  # the scan finds the calls
    assert sorted(used - set(CATALOGUES[ENGLISH])) == []


def test_no_message_is_left_unused() -> None:
    unused = set(CATALOGUES[ENGLISH]) - keys_used_in_code()
    assert sorted(unused) == []


# Calls whose text arguments reach users: they must come from the catalogues.
_TEXT_CALLS = {
    "send_message": None,
    "edit_original_response": ("content",),
    "edit_message": ("content",),
    "send": None,
    "edit": ("content",),
    "Embed": ("title", "description"),
    "add_field": ("name", "value"),
    "set_footer": ("text",),
    "Button": ("label",),
    "UserFacingError": None,
}


def _literal_text(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(re.search(r"[A-Za-z]{2}", node.value))
    return isinstance(node, ast.JoinedStr) and any(
        isinstance(v, ast.Constant) and re.search(r"[A-Za-z]{2}", str(v.value)) for v in node.values
    )


def test_no_reply_text_bypasses_the_catalogues() -> None:
    """A literal English sentence given to a reply, an embed, a button or an error would
    reach Turkish and Portuguese users untranslated."""
    found = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name not in _TEXT_CALLS:
                continue
            keywords = _TEXT_CALLS[name]
            args = [] if keywords else node.args[:1]
            args += [k.value for k in node.keywords if keywords is None or k.arg in keywords]
            if name == "UserFacingError":
                args = []  # its first argument is a key (checked above)
            for arg in args:
                if _literal_text(arg):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    assert found == []


def test_numbers_follow_the_language() -> None:
    assert t("en-US", "result.chars", chars=Num(12345)) == "12,345 characters"
    assert t("tr", "result.chars", chars=Num(12345)) == "12.345 karakter"
    assert t("pt-BR", "loss.nats", loss=Num(1.5, ".3f")) == "1,500 nats/caractere"
    assert t(discord.Locale.british_english, "loss.unknown") == "unknown"
    assert t(discord.Locale.japanese, "loss.unknown") == "unknown"  # English otherwise


def test_languages_and_lazy_messages() -> None:
    assert language(discord.Locale.turkish) == "tr"
    assert language(discord.Locale.brazil_portuguese) == "pt-BR"
    assert language("es-ES") == "en" and language(None) == "en"
    status = Message("status.failed")
    message = Message("job.already_finished", {"id": 3, "status": status})
    assert str(message) == "Job #3 has already ended: failed."
    assert message.text("tr") == "#3 numaralı iş zaten bitti: başarısız."


async def test_the_translator_leaves_names_english() -> None:
    translator = CatalogueTranslator()
    where = app_commands.TranslationContextLocation
    text = app_commands.locale_str("Delete a model of this server")

    async def get(locale, location):
        return await translator.translate(
            text, locale, app_commands.TranslationContext(location=location, data=None)
        )

    assert await get(discord.Locale.turkish, where.command_description) == (
        "Bu sunucunun bir modelini silin"
    )
    assert await get(discord.Locale.brazil_portuguese, where.command_description) == (
        "Exclua um modelo deste servidor"
    )
    assert await get(discord.Locale.turkish, where.command_name) is None
    assert await get(discord.Locale.american_english, where.command_description) is None


def test_command_texts_fit_discords_limits() -> None:
    for lang, texts in COMMAND_TEXTS.items():
        for english, translated in texts.items():
            limit = 100
            assert 1 <= len(translated) <= limit, f"{lang}: {english!r}"
        assert set(texts) == set(COMMAND_TEXTS["tr"]), f"{lang} translates other commands"

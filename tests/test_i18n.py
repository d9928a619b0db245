"""Every message the bot shows exists in every language it speaks, with the same placeholders,
and no reply is built from an English string that bypasses the catalogues."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import discord
from discord import app_commands

from bot.i18n import PO_FILES, SOURCE, TEMPLATE, Message, Num, check, language, po, t
from bot.i18n.translator import CatalogueTranslator
from jobs import reasons
from jobs.records import FINISHED, QUEUED, RUNNING
from model_store.errors import PROBLEMS

ROOT = Path(__file__).resolve().parents[1]
# What Discord users see is written in bot/ and cogs/ (cli/ talks to a terminal).
SOURCES = sorted(
    p
    for folder in ("bot", "cogs")
    for p in (ROOT / folder).rglob("*.py")
    if "i18n" not in p.relative_to(ROOT).parts
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


def test_the_catalogues_have_no_problems() -> None:
    """Every message is translated, not fuzzy, with the English placeholders and the
    language's number of plural forms; the failure reasons match jobs/reasons.py."""
    assert check.problems() == []


def test_the_check_finds_each_kind_of_problem(tmp_path: Path) -> None:
    template = [e for e in po.read(TEMPLATE) if e.msgid]
    broken = PO_FILES["tr"].read_text(encoding="utf-8")
    broken = broken.replace('msgstr "Bu komutu burada kullanamazsınız."', 'msgstr ""')
    broken = broken.replace(
        '#, python-brace-format\nmsgctxt "error.no_dm"', '#, fuzzy\nmsgctxt "error.no_dm"'
    )
    broken = broken.replace("{seconds} sn", "{saniye} sn")
    broken = broken.replace('msgstr[1] "{count} karakter"', "", 1)
    path = tmp_path / "tr.po"
    path.write_text(broken, encoding="utf-8")
    found = "\n".join(check.translation_problems(path, template))
    assert "error.check_failed" in found and "not translated" in found
    assert "error.no_dm" in found and "fuzzy" in found
    assert "error.cooldown" in found and "placeholders" in found
    assert "1 plural forms, the language has 2" in found


def test_plurals_follow_the_language() -> None:
    assert t("en", "generate.chars", count=1) == "1 character"
    assert t("en", "generate.chars", count=2) == "2 characters"
    assert t("pt-BR", "generate.chars", count=1) == "1 caractere"
    assert t("pt-BR", "generate.chars", count=0) == "0 caractere"  # pt-BR: 0 is singular
    assert t("pt-BR", "card.training", count=1, duration="9 s") == "1 época, 9 s"
    assert t("en", "card.training", count=3, duration="2 min 30 s") == "3 epochs, 2 min 30 s"


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
    assert sorted(used - set(SOURCE)) == []


def test_plural_messages_are_given_their_number() -> None:
    """A message with plural forms needs ``count=`` wherever the code uses it."""
    plural = {key for key, entry in SOURCE.items() if entry.msgid_plural is not None}
    missing = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "t"):
                continue
            key = node.args[1] if len(node.args) > 1 else None
            if isinstance(key, ast.Constant) and key.value in plural:
                if "count" not in {k.arg for k in node.keywords}:
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno}: {key.value}")
    assert len(plural) >= 5 and missing == []


def test_no_message_is_left_unused() -> None:
    unused = set(SOURCE) - keys_used_in_code()
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
    assert t("en-US", "result.chars", count=Num(12345)) == "12,345 characters"
    assert t("tr", "result.chars", count=Num(12345)) == "12.345 karakter"
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
    for path in PO_FILES.values():
        for entry in po.read(path):
            if entry.context == "command":
                assert 1 <= len(entry.msgstr[0]) <= 100, f"{path.name}: {entry.msgid!r}"

"""Discord's limits on messages, embeds, components, autocomplete choices and commands.

``check_message`` returns the problems with a message payload: ``errors`` Discord would
reject with HTTP 400 (code 50035, "Invalid Form Body"), and ``warnings`` Discord accepts but
that a well-behaved bot must avoid (a message that would ping someone). ``check_commands``
does the same for a list of application commands as a bot syncs them (names, descriptions,
options, choices and their ``*_localizations``).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TITLE = 256
MAX_EMBED_DESCRIPTION = 4096
MAX_EMBED_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER = 2048
MAX_AUTHOR_NAME = 256
MAX_EMBED_TOTAL = 6000
MAX_ACTION_ROWS = 5
MAX_ROW_BUTTONS = 5
MAX_CUSTOM_ID = 100
MAX_BUTTON_LABEL = 80
MAX_CHOICES = 25
MAX_CHOICE_NAME = 100
MAX_FILES = 10
MAX_COMMANDS = 100  # per scope (global, or one guild), chat input commands
MAX_CONTEXT_MENUS = 5  # per scope and kind (user, message)
MAX_OPTIONS = 25
MAX_NAME = 32
MAX_DESCRIPTION = 100

#: The locales Discord accepts in ``name_localizations`` and ``description_localizations``.
LOCALES = frozenset(
    "id da de en-GB en-US es-ES es-419 fr hr it lt hu nl no pl pt-BR ro fi sv-SE vi tr cs el "
    "bg ru uk hi th zh-CN ja zh-TW ko".split()
)
# Chat input command and option names: lowercase letters (any script), digits, - _ '.
_NAME = re.compile(r"^[-_'\w]{1,32}$")

_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


@dataclass
class Problems:
    errors: list[tuple[str, str]] = field(default_factory=list)  # (field path, message)
    warnings: list[str] = field(default_factory=list)

    def error(self, path: str, message: str) -> None:
        self.errors.append((path, message))

    def to_error_body(self) -> dict[str, Any]:
        """A Discord-style 50035 error body."""
        errors: dict[str, Any] = {}
        for path, message in self.errors:
            node = errors
            for part in path.split("."):
                node = node.setdefault(part, {})
            node.setdefault("_errors", []).append({"code": "BASE_TYPE_INVALID", "message": message})
        return {"code": 50035, "message": "Invalid Form Body", "errors": errors}


def pinged_mentions(content: str, allowed: dict[str, Any] | None) -> list[str]:
    """Mentions in ``content`` that would notify someone under ``allowed_mentions``.

    ``allowed`` absent (None) means Discord's default: everything in the content pings.
    """
    parse = {"everyone", "users", "roles"} if allowed is None else set(allowed.get("parse") or [])
    allowed_users = set() if allowed is None else {str(u) for u in allowed.get("users") or []}
    allowed_roles = set() if allowed is None else {str(r) for r in allowed.get("roles") or []}
    pings: list[str] = []
    for word in ("@everyone", "@here"):
        if word in content and "everyone" in parse:
            pings.append(word)
    for match in _USER_MENTION.finditer(content):
        if "users" in parse or match.group(1) in allowed_users:
            pings.append(match.group(0))
    for match in _ROLE_MENTION.finditer(content):
        if "roles" in parse or match.group(1) in allowed_roles:
            pings.append(match.group(0))
    return pings


def parse_timestamp(value: Any) -> datetime.datetime | None:
    """An embed's ISO8601 timestamp, or None when Discord would refuse it."""
    try:
        return datetime.datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _check_embed(embed: dict[str, Any], path: str, problems: Problems) -> int:
    total = 0

    def text(value: Any, limit: int, where: str) -> None:
        nonlocal total
        if value is None:
            return
        length = len(str(value))
        total += length
        if length > limit:
            problems.error(f"{path}.{where}", f"Must be {limit} or fewer in length (got {length}).")

    text(embed.get("title"), MAX_EMBED_TITLE, "title")
    text(embed.get("description"), MAX_EMBED_DESCRIPTION, "description")
    text((embed.get("footer") or {}).get("text"), MAX_FOOTER, "footer.text")
    text((embed.get("author") or {}).get("name"), MAX_AUTHOR_NAME, "author.name")
    if embed.get("timestamp") is not None and parse_timestamp(embed["timestamp"]) is None:
        problems.error(f"{path}.timestamp", "Could not parse the timestamp (ISO8601 expected).")
    fields = embed.get("fields") or []
    if len(fields) > MAX_EMBED_FIELDS:
        problems.error(f"{path}.fields", f"Must be {MAX_EMBED_FIELDS} or fewer in length.")
    for i, fld in enumerate(fields):
        text(fld.get("name"), MAX_FIELD_NAME, f"fields.{i}.name")
        text(fld.get("value"), MAX_FIELD_VALUE, f"fields.{i}.value")
    return total


def _check_components(components: list[dict[str, Any]], problems: Problems) -> None:
    top = [c for c in components if c.get("type") == 1]
    if len(top) > MAX_ACTION_ROWS:
        problems.error("components", f"Must be {MAX_ACTION_ROWS} or fewer in length.")
    seen: set[str] = set()
    for i, row in enumerate(top):
        children = row.get("components") or []
        if len(children) > MAX_ROW_BUTTONS:
            problems.error(f"components.{i}.components", "Must be 5 or fewer in length.")
        for j, child in enumerate(children):
            where = f"components.{i}.components.{j}"
            custom_id = child.get("custom_id")
            if custom_id is not None and not 1 <= len(custom_id) <= MAX_CUSTOM_ID:
                problems.error(
                    f"{where}.custom_id", f"Must be between 1 and {MAX_CUSTOM_ID} in length."
                )
            if custom_id is not None and custom_id in seen:
                problems.error(f"{where}.custom_id", "Component custom id cannot be duplicated.")
            seen.add(custom_id or "")
            label = child.get("label")
            if child.get("type") == 2 and label is not None and len(label) > MAX_BUTTON_LABEL:
                problems.error(f"{where}.label", f"Must be {MAX_BUTTON_LABEL} or fewer in length.")


def check_message(data: dict[str, Any], *, n_files: int = 0) -> Problems:
    """Check a message create/edit payload (the ``data`` of an interaction callback, too)."""
    problems = Problems()
    content = data.get("content")
    if content is not None:
        if not isinstance(content, str):
            problems.error("content", "Must be a string.")
        elif len(content) > MAX_CONTENT:
            problems.error(
                "content", f"Must be {MAX_CONTENT} or fewer in length (got {len(content)})."
            )
        else:
            pings = pinged_mentions(content, data.get("allowed_mentions"))
            if pings:
                problems.warnings.append(
                    f"content would ping {', '.join(sorted(set(pings)))}; "
                    f"allowed_mentions={data.get('allowed_mentions')!r}"
                )
    embeds = data.get("embeds") or []
    if len(embeds) > MAX_EMBEDS:
        problems.error("embeds", f"Must be {MAX_EMBEDS} or fewer in length (got {len(embeds)}).")
    total = sum(_check_embed(e, f"embeds.{i}", problems) for i, e in enumerate(embeds))
    if total > MAX_EMBED_TOTAL:
        problems.error("embeds", f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}.")
    _check_components(data.get("components") or [], problems)
    if n_files > MAX_FILES:
        problems.error("files", f"Must be {MAX_FILES} or fewer in length.")
    return problems


def check_choices(choices: list[dict[str, Any]]) -> Problems:
    problems = Problems()
    if len(choices) > MAX_CHOICES:
        problems.error("choices", f"Must be {MAX_CHOICES} or fewer in length (got {len(choices)}).")
    for i, choice in enumerate(choices):
        name = str(choice.get("name", ""))
        if not 1 <= len(name) <= MAX_CHOICE_NAME:
            problems.error(f"choices.{i}.name", "Must be between 1 and 100 in length.")
        value = choice.get("value")
        if isinstance(value, str) and len(value) > MAX_CHOICE_NAME:
            problems.error(f"choices.{i}.value", "Must be 100 or fewer in length.")
    return problems


def check_commands(commands: list[dict[str, Any]]) -> Problems:
    """Check a bulk overwrite of application commands (one scope) as Discord does."""
    problems = Problems()
    kinds = [int(c.get("type", 1)) for c in commands]
    if kinds.count(1) > MAX_COMMANDS:
        problems.error("commands", f"Must be {MAX_COMMANDS} or fewer chat input commands.")
    for kind, label in ((2, "user"), (3, "message")):
        if kinds.count(kind) > MAX_CONTEXT_MENUS:
            problems.error("commands", f"Must be {MAX_CONTEXT_MENUS} or fewer {label} commands.")
    names = [(kind, c.get("name")) for kind, c in zip(kinds, commands, strict=True)]
    if len(set(names)) != len(names):
        problems.error("commands", "Application command names must be unique per type.")
    for i, (kind, command) in enumerate(zip(kinds, commands, strict=True)):
        _check_command(command, kind, str(i), problems)
    return problems


def _check_command(command: dict[str, Any], kind: int, path: str, problems: Problems) -> None:
    if kind == 1:
        _check_named(command, path, problems)
        _check_options(command.get("options") or [], f"{path}.options", problems)
        return
    name = str(command.get("name", ""))  # context menus: any case, spaces allowed
    if not 1 <= len(name) <= MAX_NAME:
        problems.error(f"{path}.name", f"Must be between 1 and {MAX_NAME} in length.")
    _check_localizations(command.get("name_localizations"), f"{path}.name", MAX_NAME, problems)
    if command.get("description") or command.get("options"):
        problems.error(path, "Context menu commands have no description and no options.")


def _check_named(item: dict[str, Any], path: str, problems: Problems) -> None:
    """A chat input command or an option: a lowercase name and a description, localized."""
    name = str(item.get("name", ""))
    if not _NAME.match(name) or name != name.lower():
        problems.error(f"{path}.name", f"Invalid name {name!r}: 1-32 lowercase characters.")
    description = str(item.get("description", ""))
    if not 1 <= len(description) <= MAX_DESCRIPTION:
        problems.error(f"{path}.description", f"Must be between 1 and {MAX_DESCRIPTION} in length.")
    names = item.get("name_localizations")
    _check_localizations(names, f"{path}.name", MAX_NAME, problems)
    for locale, value in (names or {}).items():
        if not _NAME.match(str(value)) or str(value) != str(value).lower():
            problems.error(f"{path}.name_localizations.{locale}", f"Invalid name {value!r}.")
    _check_localizations(
        item.get("description_localizations"), f"{path}.description", MAX_DESCRIPTION, problems
    )


def _check_options(options: list[dict[str, Any]], path: str, problems: Problems) -> None:
    if len(options) > MAX_OPTIONS:
        problems.error(path, f"Must be {MAX_OPTIONS} or fewer in length.")
    for i, option in enumerate(options):
        where = f"{path}.{i}"
        _check_named(option, where, problems)
        choices = option.get("choices") or []
        if len(choices) > MAX_CHOICES:
            problems.error(f"{where}.choices", f"Must be {MAX_CHOICES} or fewer in length.")
        for j, choice in enumerate(choices):
            name = str(choice.get("name", ""))
            if not 1 <= len(name) <= MAX_CHOICE_NAME:
                problems.error(f"{where}.choices.{j}.name", "Must be between 1 and 100 in length.")
            _check_localizations(
                choice.get("name_localizations"),
                f"{where}.choices.{j}.name",
                MAX_CHOICE_NAME,
                problems,
            )
        _check_options(option.get("options") or [], f"{where}.options", problems)


def _check_localizations(
    values: dict[str, Any] | None, path: str, limit: int, problems: Problems
) -> None:
    for locale, value in (values or {}).items():
        if locale not in LOCALES:
            problems.error(f"{path}_localizations.{locale}", f"Invalid locale {locale!r}.")
        if not 1 <= len(str(value)) <= limit:
            problems.error(
                f"{path}_localizations.{locale}", f"Must be between 1 and {limit} in length."
            )

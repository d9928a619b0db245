"""Settings on pydantic-settings, for the bot (:mod:`bot.settings`) and the worker
(:mod:`worker.settings`) alike: :class:`CommonSettings` holds what both read, each field typed
with its range; values come from the environment over an optional ``.env`` file (comments and
quotes as people write them). :func:`load` turns any invalid value into one
:class:`SettingsError` line naming the variable. The queue's URL, whose password never reaches
a log line, an error or a reply (:mod:`jobs.masking`), and the Discord token are secrets.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

from .masking import mask_conninfo

PREFIX = "LSTM_BOT_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class SettingsError(Exception):
    """A missing or malformed setting; the message is one line for the user."""


class CommonSettings(BaseSettings):
    """The settings every process of lstm-bot reads (``LSTM_BOT_`` + the field's name)."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        env_ignore_empty=True,  # NAME= in .env means "the default"
        extra="ignore",
        frozen=True,
        populate_by_name=True,
        allow_inf_nan=False,
    )

    # training jobs: LSTM_BOT_QUEUE_URL = postgresql://... for workers on other machines;
    # unset, the queue lives in the bot's SQLite file (the embedded engine)
    queue_url: SecretStr | None = None
    data_dir: Path = Path("data")
    database: Path | None = None
    lease_seconds: float = Field(60.0, ge=1, le=86400)
    poll_seconds: float = Field(2.0, ge=0.01, le=3600)
    log_level: str = "INFO"

    @field_validator(
        "data_dir", "database", "model_dir", "model_cache", "scratch_dir", check_fields=False
    )
    @classmethod
    def _expand_user(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"is malformed: {value!r} (one of {', '.join(LOG_LEVELS)})")
        return value.upper()

    @field_validator("queue_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_queue_url(value.get_secret_value())
        return value

    def replace(self: Loaded, **changes: Any) -> Loaded:
        """A copy with ``changes``, validated like the original."""
        return type(self).model_validate({**dict(self), **changes})

    @property
    def queue_conninfo(self) -> str | None:
        """The queue's URL or keyword string, in clear: for the database driver only."""
        return self.queue_url.get_secret_value() if self.queue_url else None

    @property
    def queue_shown(self) -> str:
        """Where the queue is, for logs: the URL with its password masked, or the SQLite file."""
        if self.queue_url is None:
            return f"embedded, in {self.database_path}"
        return mask_conninfo(self.queue_url.get_secret_value())

    @property
    def database_path(self) -> Path:
        """The bot's SQLite file (also the embedded queue; same machine only)."""
        return self.database or self.data_dir / "lstm-bot.sqlite3"


Loaded = TypeVar("Loaded", bound=CommonSettings)


def load(cls: type[Loaded], dotenv: Path | None = Path(".env")) -> Loaded:
    """``cls`` from the environment over ``dotenv`` (if it exists); :class:`SettingsError`
    with one line naming the variable when a value is invalid."""
    try:
        return cls(_env_file=dotenv if dotenv and dotenv.is_file() else None)
    except ValidationError as exc:
        raise settings_error(cls, exc) from None


def env_name(cls: type[BaseSettings], name: str) -> str:
    """The variable that sets field ``name`` of ``cls``."""
    alias = cls.model_fields[name].validation_alias
    if isinstance(alias, AliasChoices):
        alias = alias.choices[0]
    return alias if isinstance(alias, str) else PREFIX + name.upper()


def _bounds(info: FieldInfo) -> tuple[float | None, float | None]:
    low = next((getattr(m, "ge", None) for m in info.metadata if hasattr(m, "ge")), None)
    high = next((getattr(m, "le", None) for m in info.metadata if hasattr(m, "le")), None)
    return low, high


def settings_error(cls: type[BaseSettings], exc: ValidationError) -> SettingsError:
    """The first problem of ``exc`` as one line for the user (a secret's value never shown)."""
    error = exc.errors(include_url=False)[0]
    kind, message, given = error["type"], error["msg"].removeprefix("Value error, "), error["input"]
    if not error["loc"]:  # a check across fields: its message names them
        return SettingsError(message)
    field = str(error["loc"][0])
    name = env_name(cls, field)
    info = cls.model_fields[field]
    if kind == "value_error":
        return SettingsError(message if message.startswith(PREFIX) else f"{name} {message}")
    if kind == "finite_number":
        return SettingsError(f"{name} must be a finite number, not {given}")
    if kind in {"greater_than_equal", "less_than_equal"}:
        low, high = _bounds(info)
        if high is None:
            return SettingsError(f"{name} must be at least {low:g} (got {float(given):g})")
        return SettingsError(f"{name} must be between {low:g} and {high:g} (got {float(given):g})")
    secret = "SecretStr" in str(info.annotation)
    url = field.endswith("_url")
    shown = mask_conninfo(str(given)) if url else "***" if secret else given
    return SettingsError(f"{name} is malformed: {shown!r}")


# ---- the queue's URL -----------------------------------------------------------------------

QUEUE_URL_ENV = "LSTM_BOT_QUEUE_URL"


_KEYWORDS = re.compile(r"^\s*(\w+\s*=\s*('(\\.|[^'\\])*'|[^\s']*)\s*)+$")


def check_queue_url(url: str | None, env: str = QUEUE_URL_ENV) -> str | None:
    """``None``, a ``postgresql://`` URL or libpq's keyword/value string (``host=... dbname=...``);
    anything else is a :class:`ValueError` naming ``env`` (its text never shows the password)."""
    if not url:
        return None
    if _KEYWORDS.match(url) and re.search(r"\b(host|hostaddr|dbname|service)\s*=", url):
        return url
    try:
        parts = urlsplit(url)
        good = parts.scheme in {"postgresql", "postgres"} and bool(url.split("://", 1)[1])
    except ValueError:
        good = False
    if not good:  # shown only as far as its password can be told apart
        shown = repr(mask_conninfo(url)) if "://" in url or "=" in url else "something else"
        raise ValueError(
            f"{env} must look like postgresql://USER:PASSWORD@HOST:PORT/DATABASE (got {shown})"
        )
    return url

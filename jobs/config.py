"""Settings from the environment and an optional ``.env`` file (environment wins), for the bot
(:mod:`bot.settings`) and the worker (:mod:`worker.settings`) alike; and the queue's URL, whose
password never reaches a log line, an error or a reply (:func:`mask_url`, :func:`mask_logs`).
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit


class SettingsError(Exception):
    """A missing or malformed setting; the message is one line for the user."""


def read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            raise SettingsError(f"{path}:{lineno}: expected NAME=value")
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip().removeprefix("export ").strip()] = value
    return values


def _parse_bool(raw: str) -> bool:
    low = raw.strip().lower()
    if low in {"1", "true", "yes", "on"}:
        return True
    if low in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected true or false")


def convert(raw: str, annotation: Any) -> Any:
    text = str(annotation)
    if "bool" in text:
        return _parse_bool(raw)
    if raw.strip() == "" and "None" in text:
        return None
    if "int" in text:
        return int(raw)
    if "float" in text:
        return float(raw)
    if "Path" in text:
        return Path(raw).expanduser()
    return raw


def env_values(
    cls: type, env: dict[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> dict[str, Any]:
    """The values of dataclass ``cls``'s fields (``metadata["env"]`` names the variable)
    found in ``env`` (default: the process environment) over ``dotenv``."""
    source = dict(read_dotenv(dotenv) if dotenv else {})
    source.update(os.environ if env is None else env)
    values: dict[str, Any] = {}
    for f in fields(cls):
        name = f.metadata["env"]
        if name not in source:
            continue
        try:
            values[f.name] = convert(source[name], f.type)
        except ValueError:
            shown = mask_url(source[name]) if name == QUEUE_URL_ENV else source[name]
            raise SettingsError(f"{name} is malformed: {shown!r}") from None
    return values


# ---- ranges ------------------------------------------------------------------------------
# The bounds of every numeric setting, by variable: (least, most or None). One table for the
# bot and the worker, which both read some of these.
RANGES: dict[str, tuple[float, float | None]] = {
    "LSTM_BOT_OWNER_ID": (1, None),
    "LSTM_BOT_TEST_GUILD_ID": (1, None),
    "LSTM_BOT_MAX_LENGTH": (1, 5000),  # /generate's length option goes up to 5000
    "LSTM_BOT_GENERATE_COOLDOWN": (0, 3600),
    "LSTM_BOT_MODEL_CACHE_SIZE": (1, None),
    "LSTM_BOT_MAX_UPLOAD_BYTES": (1, None),
    "LSTM_BOT_MIN_CORPUS_CHARS": (2, None),
    "LSTM_BOT_MAX_JOBS_PER_USER": (1, None),
    "LSTM_BOT_MAX_JOBS_PER_GUILD": (1, None),
    "LSTM_BOT_MAX_MODELS_PER_GUILD": (1, None),
    "LSTM_BOT_MAX_CORPUS_BYTES_PER_GUILD": (1, None),
    "LSTM_BOT_LEASE_SECONDS": (1, 86400),
    "LSTM_BOT_MAX_ATTEMPTS": (1, 100),
    "LSTM_BOT_POLL_SECONDS": (0.01, 3600),
    "LSTM_BOT_CHECKPOINT_SECONDS": (0, 86400),
}


def check_ranges(settings: Any) -> None:
    """Raise :class:`SettingsError` (one line naming the variable) for a value out of
    :data:`RANGES`, NaN or infinite."""
    for f in fields(settings):
        name, value = f.metadata["env"], getattr(settings, f.name)
        if name not in RANGES or value is None:
            continue
        low, high = RANGES[name]
        if isinstance(value, float) and not math.isfinite(value):
            raise SettingsError(f"{name} must be a finite number, not {value}")
        if value < low or (high is not None and value > high):
            if high is None:
                raise SettingsError(f"{name} must be at least {low:g} (got {value:g})")
            raise SettingsError(f"{name} must be between {low:g} and {high:g} (got {value:g})")


# ---- the queue's URL -----------------------------------------------------------------------

QUEUE_URL_ENV = "LSTM_BOT_QUEUE_URL"


def check_queue_url(url: str | None) -> str | None:
    """``None`` or a ``postgresql://`` URL; anything else is a :class:`SettingsError`."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in {"postgresql", "postgres"} or not parts.hostname:
        raise SettingsError(
            f"{QUEUE_URL_ENV} must look like postgresql://USER:PASSWORD@HOST:PORT/DATABASE "
            f"(got {mask_url(url)!r})"
        )
    return url


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + host))


def password_of(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return urlsplit(url).password or None
    except ValueError:
        return None


class MaskSecret(logging.Filter):
    """Replaces a secret in every record it sees (message, arguments and traceback)."""

    def __init__(self, secret: str):
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if self.secret in text:
            record.msg, record.args = text.replace(self.secret, "***"), None
        if record.exc_text and self.secret in record.exc_text:
            record.exc_text = record.exc_text.replace(self.secret, "***")
        return True


def mask_logs(url: str | None) -> None:
    """Keep the queue URL's password out of every log handler of this process."""
    secret = password_of(url)
    if not secret:
        return
    handlers = logging.getLogger().handlers or [logging.lastResort]
    for handler in handlers:
        if handler is not None and not any(
            isinstance(f, MaskSecret) and f.secret == secret for f in handler.filters
        ):
            handler.addFilter(MaskSecret(secret))

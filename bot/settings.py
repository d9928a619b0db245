"""Settings from the environment and an optional ``.env`` file (environment wins).

Every setting is listed, with its default, in ``.env.example``. A malformed or out-of-range
value stops start-up with one line naming the variable (ranges are each field's ``min`` and
``max``). The token is kept out of ``repr``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from model_store.store import NAME_RE


class SettingsError(Exception):
    """A missing or malformed setting; the message is one line for the user."""


def _parse_bool(raw: str) -> bool:
    low = raw.strip().lower()
    if low in {"1", "true", "yes", "on"}:
        return True
    if low in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected true or false")


def _setting(env: str, default: Any, *, min: float | None = None, max: float | None = None):
    meta: dict[str, Any] = {"env": env}
    if min is not None:
        meta["min"] = min
    if max is not None:
        meta["max"] = max
    return field(default=default, metadata=meta)


MAX_GENERATE_LENGTH = 5000  # the most /generate's length option accepts


@dataclass(frozen=True)
class Settings:
    discord_token: str = field(default="", repr=False, metadata={"env": "DISCORD_TOKEN"})
    data_dir: Path = _setting("LSTM_BOT_DATA_DIR", Path("data"))
    database: Path | None = _setting("LSTM_BOT_DATABASE", None)
    model_dir: Path | None = _setting("LSTM_BOT_MODEL_DIR", None)
    owner_id: int | None = _setting("LSTM_BOT_OWNER_ID", None, min=1)
    test_guild_id: int | None = _setting("LSTM_BOT_TEST_GUILD_ID", None, min=1)
    default_model: str = _setting("LSTM_BOT_DEFAULT_MODEL", "nietzsche")
    log_level: str = _setting("LSTM_BOT_LOG_LEVEL", "INFO")
    # /generate
    max_length: int = _setting("LSTM_BOT_MAX_LENGTH", 1000, min=1, max=MAX_GENERATE_LENGTH)
    generate_cooldown: float = _setting("LSTM_BOT_GENERATE_COOLDOWN", 5.0, min=0, max=3600)
    model_cache_size: int = _setting("LSTM_BOT_MODEL_CACHE_SIZE", 4, min=1)
    # uploads and quotas (/train)
    max_upload_bytes: int = _setting("LSTM_BOT_MAX_UPLOAD_BYTES", 5_000_000, min=1)
    min_corpus_chars: int = _setting("LSTM_BOT_MIN_CORPUS_CHARS", 5_000, min=2)
    max_jobs_per_user: int = _setting("LSTM_BOT_MAX_JOBS_PER_USER", 2, min=1)
    max_jobs_per_guild: int = _setting("LSTM_BOT_MAX_JOBS_PER_GUILD", 5, min=1)
    max_models_per_guild: int = _setting("LSTM_BOT_MAX_MODELS_PER_GUILD", 20, min=1)
    max_corpus_bytes_per_guild: int = _setting(
        "LSTM_BOT_MAX_CORPUS_BYTES_PER_GUILD", 50_000_000, min=1
    )
    keep_corpora: bool = _setting("LSTM_BOT_KEEP_CORPORA", False)
    # worker
    lease_seconds: float = _setting("LSTM_BOT_LEASE_SECONDS", 60.0, min=1, max=86400)
    max_attempts: int = _setting("LSTM_BOT_MAX_ATTEMPTS", 3, min=1, max=100)
    poll_seconds: float = _setting("LSTM_BOT_POLL_SECONDS", 2.0, min=0.01, max=3600)

    @property
    def database_path(self) -> Path:
        return self.database or self.data_dir / "lstm-bot.sqlite3"

    @property
    def model_path(self) -> Path:
        return self.model_dir or self.data_dir / "models"

    @property
    def guild_model_path(self) -> Path:
        """Models trained from Discord, one folder per server."""
        return self.data_dir / "guild-models"

    @property
    def corpus_path(self) -> Path:
        return self.data_dir / "corpora"

    @property
    def checkpoint_path(self) -> Path:
        return self.data_dir / "checkpoints"

    def require_token(self) -> str:
        if not self.discord_token.strip():
            raise SettingsError(
                "DISCORD_TOKEN is not set: put it in .env (see .env.example), "
                "or try the offline console: lstm-bot console"
            )
        return self.discord_token.strip()


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


def _convert(raw: str, annotation: Any) -> Any:
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


def load_settings(
    env: dict[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> Settings:
    source = dict(read_dotenv(dotenv) if dotenv else {})
    source.update(os.environ if env is None else env)
    values: dict[str, Any] = {}
    for f in fields(Settings):
        name = f.metadata["env"]
        if name not in source:
            continue
        try:
            values[f.name] = _convert(source[name], f.type)
        except ValueError:
            raise SettingsError(f"{name} is malformed: {source[name]!r}") from None
    settings = Settings(**values)
    for f in fields(Settings):
        _check_range(f.metadata, getattr(settings, f.name))
    if settings.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise SettingsError(f"LSTM_BOT_LOG_LEVEL is malformed: {settings.log_level!r}")
    if not NAME_RE.match(settings.default_model):
        raise SettingsError(
            f"LSTM_BOT_DEFAULT_MODEL is not a model name: {settings.default_model!r}"
        )
    return settings


def _check_range(meta: dict[str, Any], value: Any) -> None:
    if value is None or ("min" not in meta and "max" not in meta):
        return
    name, low, high = meta["env"], meta.get("min"), meta.get("max")
    if isinstance(value, float) and not math.isfinite(value):
        raise SettingsError(f"{name} must be a finite number, not {value}")
    if (low is not None and value < low) or (high is not None and value > high):
        if high is None:
            raise SettingsError(f"{name} must be at least {low:g} (got {value:g})")
        raise SettingsError(f"{name} must be between {low:g} and {high:g} (got {value:g})")

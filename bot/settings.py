"""Settings from the environment and an optional ``.env`` file (environment wins).

Every setting is listed, with its default, in ``.env.example``. A malformed or out-of-range
value (``jobs.config.RANGES``) stops start-up with one line naming the variable. The token and
the queue URL (it may hold a database password) are kept out of ``repr``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from jobs.config import (
    QUEUE_URL_ENV,
    SettingsError,
    check_queue_url,
    check_ranges,
    env_values,
    read_dotenv,
)
from model_store.store import NAME_RE

from .sharding import parse_shard_ids


@dataclass(frozen=True)
class Settings:
    discord_token: str = field(default="", repr=False, metadata={"env": "DISCORD_TOKEN"})
    data_dir: Path = field(default=Path("data"), metadata={"env": "LSTM_BOT_DATA_DIR"})
    database: Path | None = field(default=None, metadata={"env": "LSTM_BOT_DATABASE"})
    model_dir: Path | None = field(default=None, metadata={"env": "LSTM_BOT_MODEL_DIR"})
    owner_id: int | None = field(default=None, metadata={"env": "LSTM_BOT_OWNER_ID"})
    test_guild_id: int | None = field(default=None, metadata={"env": "LSTM_BOT_TEST_GUILD_ID"})
    default_model: str = field(default="nietzsche", metadata={"env": "LSTM_BOT_DEFAULT_MODEL"})
    log_level: str = field(default="INFO", metadata={"env": "LSTM_BOT_LOG_LEVEL"})
    # /generate
    max_length: int = field(default=1000, metadata={"env": "LSTM_BOT_MAX_LENGTH"})
    generate_cooldown: float = field(default=5.0, metadata={"env": "LSTM_BOT_GENERATE_COOLDOWN"})
    model_cache_size: int = field(default=4, metadata={"env": "LSTM_BOT_MODEL_CACHE_SIZE"})
    # uploads and quotas (/train)
    max_upload_bytes: int = field(default=5_000_000, metadata={"env": "LSTM_BOT_MAX_UPLOAD_BYTES"})
    min_corpus_chars: int = field(default=5_000, metadata={"env": "LSTM_BOT_MIN_CORPUS_CHARS"})
    max_jobs_per_user: int = field(default=2, metadata={"env": "LSTM_BOT_MAX_JOBS_PER_USER"})
    max_jobs_per_guild: int = field(default=5, metadata={"env": "LSTM_BOT_MAX_JOBS_PER_GUILD"})
    max_models_per_guild: int = field(default=20, metadata={"env": "LSTM_BOT_MAX_MODELS_PER_GUILD"})
    max_corpus_bytes_per_guild: int = field(
        default=50_000_000, metadata={"env": "LSTM_BOT_MAX_CORPUS_BYTES_PER_GUILD"}
    )
    keep_corpora: bool = field(default=False, metadata={"env": "LSTM_BOT_KEEP_CORPORA"})
    # training jobs: LSTM_BOT_QUEUE_URL = postgresql://... for workers on other machines;
    # unset, the queue lives in the database above (the embedded engine)
    queue_url: str | None = field(default=None, repr=False, metadata={"env": QUEUE_URL_ENV})
    lease_seconds: float = field(default=60.0, metadata={"env": "LSTM_BOT_LEASE_SECONDS"})
    max_attempts: int = field(default=3, metadata={"env": "LSTM_BOT_MAX_ATTEMPTS"})
    poll_seconds: float = field(default=2.0, metadata={"env": "LSTM_BOT_POLL_SECONDS"})
    # sharding (see bot/sharding.py): None = Discord's recommended count, every shard
    shard_count: int | None = field(default=None, metadata={"env": "LSTM_BOT_SHARD_COUNT"})
    shard_ids: str | None = field(default=None, metadata={"env": "LSTM_BOT_SHARD_IDS"})

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
    def shard_id_list(self) -> tuple[int, ...] | None:
        """This process's shards (``LSTM_BOT_SHARD_IDS``), None for every shard."""
        return parse_shard_ids(self.shard_ids) if self.shard_ids else None

    def require_token(self) -> str:
        if not self.discord_token.strip():
            raise SettingsError(
                "DISCORD_TOKEN is not set: put it in .env (see .env.example), "
                "or try the offline console: lstm-bot console"
            )
        return self.discord_token.strip()


def load_settings(
    env: dict[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> Settings:
    settings = Settings(**env_values(Settings, env, dotenv))
    check_queue_url(settings.queue_url)
    check_ranges(settings)
    if settings.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise SettingsError(f"LSTM_BOT_LOG_LEVEL is malformed: {settings.log_level!r}")
    if not NAME_RE.match(settings.default_model):
        raise SettingsError(
            f"LSTM_BOT_DEFAULT_MODEL is not a model name: {settings.default_model!r}"
        )
    check_shards(settings)
    return settings


def check_shards(settings: Settings) -> None:
    """LSTM_BOT_SHARD_IDS: shard ids below LSTM_BOT_SHARD_COUNT, which it needs."""
    if not settings.shard_ids:
        return
    try:
        ids = parse_shard_ids(settings.shard_ids)
    except ValueError:
        raise SettingsError(f"LSTM_BOT_SHARD_IDS is malformed: {settings.shard_ids!r}") from None
    if settings.shard_count is None:
        raise SettingsError("LSTM_BOT_SHARD_IDS needs LSTM_BOT_SHARD_COUNT")
    if ids[-1] >= settings.shard_count:
        raise SettingsError(
            f"LSTM_BOT_SHARD_IDS names shard {ids[-1]}, but LSTM_BOT_SHARD_COUNT is "
            f"{settings.shard_count} (shards 0 to {settings.shard_count - 1})"
        )


__all__ = ["Settings", "SettingsError", "load_settings", "read_dotenv"]

"""The bot's settings: :class:`jobs.config.CommonSettings` (the queue, the data folder, the
lease, the log level) plus Discord, where the bot's state lives, generation, quotas and
sharding.

Every setting is listed, with its default, in ``.env.example``; each field carries its range.
A malformed or out-of-range value stops start-up with one line naming the variable. The token
and the queue's and state's URLs (they may hold a database password) are secrets: never in
``repr`` or a log (logged only masked, :mod:`jobs.masking`).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator

from jobs.config import CommonSettings, SettingsError, check_queue_url, load
from jobs.masking import mask_conninfo
from model_store.store import NAME_RE

from .sharding import parse_shard_ids


class Settings(CommonSettings):
    discord_token: SecretStr = Field(
        SecretStr(""), validation_alias=AliasChoices("DISCORD_TOKEN", "discord_token")
    )
    # the bot's state (models, server settings, shards): unset, the SQLite file; a
    # postgresql:// URL (usually the queue's), PostgreSQL, shared by bots on several machines
    database_url: SecretStr | None = None
    model_dir: Path | None = None
    owner_id: int | None = Field(None, ge=1)
    test_guild_id: int | None = Field(None, ge=1)
    default_model: str = "nietzsche"
    # /generate (its length option goes up to 5000)
    max_length: int = Field(1000, ge=1, le=5000)
    generate_cooldown: float = Field(5.0, ge=0, le=3600)
    model_cache_size: int = Field(4, ge=1)
    # this machine's copies of models stored in PostgreSQL (bot/model_files.py)
    model_cache: Path | None = None
    # stopping (SIGTERM): seconds the replies being written get to finish before they are
    # ended with "stopped: press Continue"
    shutdown_grace: float = Field(5.0, ge=0, le=600)
    # uploads and quotas (/train)
    max_upload_bytes: int = Field(5_000_000, ge=1)
    min_corpus_chars: int = Field(5_000, ge=2)
    max_jobs_per_user: int = Field(2, ge=1)
    max_jobs_per_guild: int = Field(5, ge=1)
    max_models_per_guild: int = Field(20, ge=1)
    max_corpus_bytes_per_guild: int = Field(50_000_000, ge=1)
    keep_corpora: bool = False
    max_attempts: int = Field(3, ge=1, le=100)
    # sharding (see bot/sharding.py): None = Discord's recommended count, every shard
    shard_count: int | None = Field(None, ge=1)
    shard_ids: str | None = None

    @field_validator("default_model")
    @classmethod
    def _model_name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError(f"is not a model name: {value!r}")
        return value

    @field_validator("database_url")
    @classmethod
    def _state_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_queue_url(value.get_secret_value(), "LSTM_BOT_DATABASE_URL")
        return value

    @model_validator(mode="after")
    def _state_with_a_shared_queue(self) -> Settings:
        """Bots on several machines share the queue too: PostgreSQL state needs one."""
        if self.database_url is not None and self.queue_url is None:
            raise ValueError(
                "LSTM_BOT_DATABASE_URL needs LSTM_BOT_QUEUE_URL (bot processes on several "
                "machines share the job queue too; usually the same URL)"
            )
        return self

    @model_validator(mode="after")
    def _shards_fit(self) -> Settings:
        """LSTM_BOT_SHARD_IDS: shard ids below LSTM_BOT_SHARD_COUNT, which it needs."""
        if not self.shard_ids:
            return self
        try:
            ids = parse_shard_ids(self.shard_ids)
        except ValueError:
            raise ValueError(f"LSTM_BOT_SHARD_IDS is malformed: {self.shard_ids!r}") from None
        if self.shard_count is None:
            raise ValueError("LSTM_BOT_SHARD_IDS needs LSTM_BOT_SHARD_COUNT")
        if ids[-1] >= self.shard_count:
            raise ValueError(
                f"LSTM_BOT_SHARD_IDS names shard {ids[-1]}, but LSTM_BOT_SHARD_COUNT is "
                f"{self.shard_count} (shards 0 to {self.shard_count - 1})"
            )
        return self

    @property
    def state_conninfo(self) -> str | None:
        """The state database's URL in clear, for the driver only (None: the SQLite file)."""
        return self.database_url.get_secret_value() if self.database_url else None

    @property
    def state_shown(self) -> str:
        """Where the bot's state is, for logs: the URL with its password masked, or the file."""
        if self.database_url is None:
            return f"the SQLite file {self.database_path}"  # (also the embedded queue's)
        return mask_conninfo(self.database_url.get_secret_value())

    @property
    def model_path(self) -> Path:
        return self.model_dir or self.data_dir / "models"

    @property
    def guild_model_path(self) -> Path:
        """Models trained from Discord, one folder per server."""
        return self.data_dir / "guild-models"

    @property
    def model_cache_path(self) -> Path:
        """This machine's read-through cache of models stored as blobs in PostgreSQL."""
        return self.model_cache or self.data_dir / "model-cache"

    @property
    def shard_id_list(self) -> tuple[int, ...] | None:
        """This process's shards (``LSTM_BOT_SHARD_IDS``), None for every shard."""
        return parse_shard_ids(self.shard_ids) if self.shard_ids else None

    def require_token(self) -> str:
        token = self.discord_token.get_secret_value().strip()
        if not token:
            raise SettingsError(
                "DISCORD_TOKEN is not set: put it in .env (see .env.example), "
                "or try the offline console: lstm-bot console"
            )
        return token


def load_settings(dotenv: Path | None = Path(".env")) -> Settings:
    return load(Settings, dotenv)


__all__ = ["Settings", "SettingsError", "load_settings"]

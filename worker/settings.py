"""The worker's settings (nothing of Discord): where the queue is and where to work.

A worker needs only the queue (``LSTM_BOT_QUEUE_URL``, or the bot's SQLite file on the same
machine) and a scratch directory; everything a job needs comes through the queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from jobs.config import QUEUE_URL_ENV, SettingsError, check_queue_url, check_ranges, env_values


@dataclass(frozen=True)
class WorkerSettings:
    queue_url: str | None = field(default=None, repr=False, metadata={"env": QUEUE_URL_ENV})
    data_dir: Path = field(default=Path("data"), metadata={"env": "LSTM_BOT_DATA_DIR"})
    database: Path | None = field(default=None, metadata={"env": "LSTM_BOT_DATABASE"})
    scratch_dir: Path | None = field(default=None, metadata={"env": "LSTM_BOT_SCRATCH_DIR"})
    lease_seconds: float = field(default=60.0, metadata={"env": "LSTM_BOT_LEASE_SECONDS"})
    poll_seconds: float = field(default=2.0, metadata={"env": "LSTM_BOT_POLL_SECONDS"})
    checkpoint_seconds: float = field(default=60.0, metadata={"env": "LSTM_BOT_CHECKPOINT_SECONDS"})
    log_level: str = field(default="INFO", metadata={"env": "LSTM_BOT_LOG_LEVEL"})

    @property
    def database_path(self) -> Path:
        """The embedded queue: the bot's SQLite file (same machine only)."""
        return self.database or self.data_dir / "lstm-bot.sqlite3"

    @property
    def scratch_path(self) -> Path:
        """Per-job working files (inputs, checkpoints, the result before upload)."""
        return self.scratch_dir or self.data_dir / "scratch"


def load_worker_settings(
    env: dict[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> WorkerSettings:
    settings = WorkerSettings(**env_values(WorkerSettings, env, dotenv))
    check_queue_url(settings.queue_url)
    check_ranges(settings)
    if settings.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise SettingsError(f"LSTM_BOT_LOG_LEVEL is malformed: {settings.log_level!r}")
    return settings

"""The worker's settings (nothing of Discord): where the queue is and where to work.

A worker needs only the queue (``LSTM_BOT_QUEUE_URL``, or the bot's SQLite file on the same
machine) and a scratch directory; everything a job needs comes through the queue. The shared
fields are :class:`jobs.config.CommonSettings`'.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from jobs.config import CommonSettings, load


class WorkerSettings(CommonSettings):
    scratch_dir: Path | None = None
    # store a job's checkpoint in the queue at most this often (seconds of training), and when
    # the job is handed back; 0: after every epoch
    checkpoint_seconds: float = Field(60.0, ge=0, le=86400)

    @property
    def scratch_path(self) -> Path:
        """Per-job working files (inputs, checkpoints, the result before upload)."""
        return self.scratch_dir or self.data_dir / "scratch"


def load_worker_settings(dotenv: Path | None = Path(".env")) -> WorkerSettings:
    return load(WorkerSettings, dotenv)

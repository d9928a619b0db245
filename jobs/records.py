"""What bot and worker exchange about a training job: statuses, event kinds, records."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = (
    "queued",
    "running",
    "succeeded",
    "failed",
    "cancelled",
)
ACTIVE = (QUEUED, RUNNING)
FINISHED = (SUCCEEDED, FAILED, CANCELLED)

# Event kinds written to job_events (the payload fields are listed in jobs/__init__.py).
STARTED, PROGRESS, EPOCH, RETRY, RELEASED = "started", "progress", "epoch", "retry", "released"

# What travels as blobs (jobs/blobs.py): the upload, a server's own base model, the last
# epoch's checkpoint (so another machine can resume), the result (model files + loss plot).
CORPUS, BASE, CHECKPOINT, RESULT = "corpus", "base", "checkpoint", "result"
CORPUS_FILE = "corpus.txt"


@dataclass(frozen=True)
class Servers:
    """The Discord servers one bot process serves: those of shards ``ids`` out of ``count``
    (a server's shard is ``(guild_id >> 22) % count``, Discord's rule; DMs: shard 0).
    The reporter asks the queue for these servers' jobs only."""

    count: int
    ids: tuple[int, ...]

    def holds(self, guild_id: int | None) -> bool:
        return shard_of(guild_id, self.count) in self.ids

    def sql(self) -> tuple[str, list[int]]:
        """A condition on ``jobs.guild_id`` (``?`` placeholders) and its parameters."""
        marks = ", ".join("?" * len(self.ids))
        return f"((guild_id >> 22) % ?) IN ({marks})", [self.count, *self.ids]


def shard_of(guild_id: int | None, shard_count: int) -> int:
    return 0 if not guild_id else (guild_id >> 22) % shard_count


@dataclass(frozen=True)
class Job:
    id: int
    guild_id: int
    channel_id: int
    user_id: int
    model_name: str
    base_model: str | None
    base_checksum: str | None  # a built-in base, sent by name: its weights' SHA-256
    params: dict[str, Any]
    corpus_bytes: int
    corpus_deleted: bool
    dedupe_key: str | None
    status: str
    attempts: int
    max_attempts: int
    not_before: float
    lease_owner: str | None
    lease_expires: float | None
    cancel_requested: bool
    error: str | None
    checkpoint_epoch: int  # the last epoch whose checkpoint is stored (0: none)
    model_id: int | None  # the bot's registry row, once it imported the result
    task_id: int | None  # procrastinate's job id (PostgreSQL engine)
    progress_message_id: int | None
    reported_event_id: int
    report_failed_at: float | None  # the bot gave up posting to the job's channel
    created_at: float
    started_at: float | None
    finished_at: float | None
    locale: str | None = None  # the Discord language of the member who queued it (the bot's)
    # Why it failed or is tried again (``error`` in English): a code of jobs/reasons.py and its
    # parameters; None for older jobs (show ``error``) and jobs without an error.
    error_code: str | None = None
    error_params: dict[str, Any] | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def imported(self) -> bool:
        return self.model_id is not None

    @classmethod
    def from_row(cls, row: Any) -> Job:
        values = {f.name: row[f.name] for f in fields(cls)}
        values["params"] = json.loads(values["params"])
        if values["error_params"] is not None:
            values["error_params"] = json.loads(values["error_params"])
        values["corpus_deleted"] = bool(values["corpus_deleted"])
        values["cancel_requested"] = bool(values["cancel_requested"])
        return cls(**values)


@dataclass(frozen=True)
class BaseModel:
    """The model a job fine-tunes: a built-in one by name and weights checksum (every worker
    has it), or a server's own one as its files (``weights.npz``, ``charset.json``,
    ``card.json``)."""

    name: str
    checksum: str | None = None
    files: dict[str, bytes] | None = None


@dataclass(frozen=True)
class Lease:
    """A worker's claim on a running job; pass it to every worker write."""

    job_id: int
    token: str
    worker_id: str
    attempt: int
    expires: float


@dataclass(frozen=True)
class Heartbeat:
    held: bool  # False: the lease is lost (taken over, or the job finished)
    cancel_requested: bool


@dataclass(frozen=True)
class JobEvent:
    id: int
    job_id: int
    kind: str
    payload: dict[str, Any]
    created_at: float

    @classmethod
    def from_row(cls, row: Any) -> JobEvent:
        return cls(
            row["id"], row["job_id"], row["kind"], json.loads(row["payload"]), row["created_at"]
        )


@dataclass(frozen=True)
class Limits:
    """Quotas checked atomically by ``submit`` (``None`` = no limit)."""

    max_jobs_per_user: int | None = None
    max_jobs_per_guild: int | None = None
    max_corpus_bytes_per_guild: int | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        return cls(
            settings.max_jobs_per_user,
            settings.max_jobs_per_guild,
            settings.max_corpus_bytes_per_guild,
        )

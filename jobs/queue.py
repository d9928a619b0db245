"""The job queue's interface: what the bot and the workers may do with training jobs.

Two engines implement it: :mod:`jobs.sqlite` (embedded, the default) and :mod:`jobs.postgres`
(procrastinate on PostgreSQL, for workers on other machines). Both keep the jobs, their events
and their files in the same three tables (:mod:`jobs.tables`). Nothing here needs a shared
disk: the upload, the base model, checkpoints and the result travel as checked blobs.

Messages of the errors raised (:mod:`jobs.errors`) are one line meant for a user.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .reasons import WORKER_STOPPED, Reason
from .records import BaseModel, Heartbeat, Job, JobEvent, Lease, Limits, Servers

Handler = Callable[[Lease], Awaitable[None]]


class JobQueue(ABC):
    # ---- the bot's side ------------------------------------------------------------------

    @abstractmethod
    async def identity(self) -> str:
        """This queue database's random name, made once with its schema: job ids start at 1
        in every queue database, so what the bot keeps of a job is keyed by (identity, id)."""

    @abstractmethod
    async def submit(
        self,
        *,
        guild_id: int,
        channel_id: int,
        user_id: int,
        model_name: str,
        corpus: bytes,
        params: dict[str, Any],
        base: BaseModel | None = None,
        dedupe_key: str | None = None,
        limits: Limits | None = None,
        locale: str | None = None,
    ) -> tuple[Job, bool]:
        """Queue a job with its upload (and its base model's files when they must travel);
        ``(job, created)``. A known ``dedupe_key`` returns the existing job. Quotas and the
        name (no unfinished job of that name in the server) are checked in the same
        transaction: :class:`QuotaExceeded` or :class:`NameTaken` say why not. ``locale``
        is kept for the bot (the language of its messages about the job)."""

    @abstractmethod
    async def get(self, job_id: int) -> Job | None: ...

    @abstractmethod
    async def position(self, job_id: int) -> int | None:
        """Place in the queue (1 = next); ``None`` unless the job is queued."""

    @abstractmethod
    async def list_for_guild(self, guild_id: int, limit: int = 10) -> list[Job]: ...

    @abstractmethod
    async def active_jobs_for_user(self, user_id: int) -> int: ...

    @abstractmethod
    async def active_jobs_for_guild(self, guild_id: int) -> int: ...

    @abstractmethod
    async def corpus_bytes_for_guild(self, guild_id: int) -> int:
        """Bytes of this server's uploaded texts still stored."""

    @abstractmethod
    async def request_cancel(self, job_id: int) -> Job | None:
        """Cancel a queued job at once (its upload is deleted), or ask a running one's worker
        to stop. Returns the job as it now is (unchanged if it had already finished)."""

    @abstractmethod
    async def events_after(
        self, job_id: int, after_id: int = 0, limit: int = 100
    ) -> list[JobEvent]: ...

    @abstractmethod
    async def mark_reported(self, job_id: int, event_id: int) -> None: ...

    @abstractmethod
    async def set_progress_message(self, job_id: int, message_id: int | None) -> None: ...

    @abstractmethod
    async def jobs_to_report(self, limit: int = 100, servers: Servers | None = None) -> list[Job]:
        """Unfinished jobs and jobs with events the bot has not shown yet, oldest first
        (except those whose reporting was given up); of ``servers`` only, when given."""

    @abstractmethod
    async def give_up_reporting(self, job_id: int) -> None:
        """The job's channel can't be reached: stop offering it to the reporter."""

    @abstractmethod
    async def jobs_to_import(self, limit: int = 20, servers: Servers | None = None) -> list[Job]:
        """Succeeded jobs whose result the bot has not imported yet (of ``servers`` only,
        when given), oldest first."""

    @abstractmethod
    async def result_files(self, job_id: int) -> dict[str, bytes]:
        """A succeeded job's model files and loss plot, checked."""

    @abstractmethod
    async def mark_imported(self, job_id: int, model_id: int) -> None:
        """The bot has the result as registry row ``model_id``: drop the result files."""

    @abstractmethod
    async def fail_import(self, job_id: int, reason: Reason) -> None:
        """The result can't be published (e.g. the name was taken meanwhile): the job fails
        for ``reason``."""

    @abstractmethod
    async def delete_corpus(self, job_id: int) -> None: ...

    @abstractmethod
    async def finished_with_corpus(self, limit: int = 100) -> list[Job]: ...

    def subscribe(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` soon after any job event is written (engines that can notify);
        the bot polls as well, so this only lowers the latency."""
        return None

    # ---- the worker's side ---------------------------------------------------------------

    @abstractmethod
    async def serve(
        self,
        handler: Handler,
        *,
        worker_id: str,
        stopping: asyncio.Event,
        poll_seconds: float,
        once: bool = False,
        max_idle: float | None = None,
    ) -> None:
        """Give jobs to ``handler`` one at a time until ``stopping`` is set, after one job
        with ``once``, or after ``max_idle`` seconds without one. The handler ends every job
        it gets through the fenced writes below (``complete``, ``fail``, ``release``,
        ``finish_cancelled``)."""

    @abstractmethod
    async def files(self, job_id: int, kind: str) -> dict[str, bytes]:
        """A job's blobs of one kind (corpus, base, checkpoint, result), checked."""

    @abstractmethod
    async def download(
        self,
        job_id: int,
        kind: str,
        directory: Path,
        *,
        stop: Callable[[], bool] = lambda: False,
    ) -> dict[str, Path]:
        """A job's blobs of one kind written into ``directory``, checked, read piece by piece
        (``stop()`` asked in between: :class:`DownloadStopped`); their paths by name."""

    @abstractmethod
    async def heartbeat(self, lease: Lease) -> Heartbeat:
        """Say the worker is alive; learn whether it still holds the job and whether the
        user asked to cancel it."""

    def cancel_seen(self, lease: Lease) -> bool:
        """Whether a cancel of the job already reached this process (no database round trip;
        asked often between heartbeats). ``False`` when the engine learns it only from
        :meth:`heartbeat`."""
        return False

    @abstractmethod
    async def add_event(self, lease: Lease, kind: str, payload: dict[str, Any]) -> int: ...

    @abstractmethod
    async def save_checkpoint(
        self, lease: Lease, epoch: int, files: Mapping[str, bytes | Path]
    ) -> None:
        """Replace the job's checkpoint (another machine resumes after ``epoch``)."""

    @abstractmethod
    async def complete(
        self, lease: Lease, files: Mapping[str, bytes | Path], payload: dict[str, Any]
    ) -> Job:
        """Store the result and mark the job succeeded (the bot imports it). Raises
        :class:`CancelRequested` when the user cancelled meanwhile."""

    @abstractmethod
    async def fail(self, lease: Lease, reason: Reason, *, retryable: bool) -> Job:
        """Retry later (exponential backoff) while attempts remain, else fail for good.
        ``reason`` is shown to the user (in their language by its code; the job's ``error``
        and the event's ``reason`` hold its English). Returns the job (``queued`` or
        ``failed``)."""

    @abstractmethod
    async def release(self, lease: Lease, reason: Reason = WORKER_STOPPED) -> Job:
        """Put a running job back (graceful shutdown); the attempt is not counted."""

    @abstractmethod
    async def finish_cancelled(self, lease: Lease) -> Job:
        """The worker stopped a job whose cancel was requested."""

    @abstractmethod
    async def statuses(self, job_ids: Sequence[int]) -> dict[int, str]: ...

    async def close(self) -> None:
        """Release connections (the SQLite engine's database belongs to its opener)."""
        return None

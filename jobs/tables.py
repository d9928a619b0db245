"""The job tables (``jobs``, ``job_events``, ``job_blobs`` with their ``job_blob_parts``): one
implementation of the queue's operations for both engines, on a :class:`jobs.store.Store`.

Engines add how work reaches a worker (:mod:`jobs.sqlite`: leases with expiry polled from the
table; :mod:`jobs.postgres`: procrastinate) through the hooks at the end of the class. Every
worker write is fenced by the lease token of the attempt (a new attempt gets a new token), so a
worker that lost the job, however alive, can change nothing (:class:`LeaseLost`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from . import backoff
from .blobs import (
    Blob,
    Source,
    check_files,
    check_name,
    check_size,
    parts_of,
    receive,
)
from .errors import CancelRequested, DownloadStopped, LeaseLost, NameTaken, QuotaExceeded
from .queue import JobQueue
from .reasons import WORKER_STOPPED, Reason
from .records import (
    BASE,
    CANCELLED,
    CHECKPOINT,
    CORPUS,
    CORPUS_FILE,
    FAILED,
    FINISHED,
    PROGRESS,
    QUEUED,
    RELEASED,
    RESULT,
    RETRY,
    RUNNING,
    SUCCEEDED,
    BaseModel,
    Heartbeat,
    Job,
    JobEvent,
    Lease,
    Limits,
    Servers,
)
from .store import Store, Tx

log = logging.getLogger(__name__)

FENCE = "id = ? AND lease_token = ? AND status = 'running'"
CLEAR_LEASE = "lease_owner = NULL, lease_token = NULL, lease_expires = NULL"
SET_ERROR = "error = ?, error_code = ?, error_params = ?"
CLEAR_ERROR = "error = NULL, error_code = NULL, error_params = NULL"
TAKEN_OVER = Reason("worker_unresponsive")
GAVE_UP = Reason("worker_gave_up")
_PART_OF = "job_id = ? AND kind = ? AND name = ?"
_ACTIVE_COUNT = "SELECT COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running')"
_CORPUS_BYTES = (
    "SELECT COALESCE(SUM(corpus_bytes), 0) AS n FROM jobs WHERE guild_id = ? AND corpus_deleted = 0"
)


class TableQueue(JobQueue):
    def __init__(
        self,
        store: Store,
        *,
        lease_seconds: float = 60.0,
        max_attempts: int = 3,
        backoff_seconds: float = 15.0,
        max_backoff_seconds: float = 600.0,
        clock: Callable[[], float] = time.time,
    ):
        self.store = store
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.clock = clock
        self._identity: str | None = None

    # ---- the bot's side ------------------------------------------------------------------

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
        check_files(CORPUS, {CORPUS_FILE: corpus})
        base_files = base.files if base is not None and base.files is not None else {}
        check_files(BASE, base_files)
        now = self.clock()
        async with self.store.transaction() as tx:
            if dedupe_key is not None:
                row = await tx.one("SELECT * FROM jobs WHERE dedupe_key = ?", (dedupe_key,))
                if row is not None:
                    return Job.from_row(row), False
            await self.store.lock(tx, guild_id)
            await _check_submit(tx, guild_id, user_id, model_name, len(corpus), limits)
            row = await tx.one(
                "INSERT INTO jobs (guild_id, channel_id, user_id, model_name, base_model,"
                " base_checksum, params, corpus_bytes, dedupe_key, max_attempts, created_at,"
                " locale) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (
                    guild_id,
                    channel_id,
                    user_id,
                    model_name,
                    base.name if base else None,
                    base.checksum if base and base.files is None else None,
                    json.dumps(params),
                    len(corpus),
                    dedupe_key,
                    self.max_attempts,
                    now,
                    locale,
                ),
            )
            job = Job.from_row(row)
            await self._put(tx, job.id, CORPUS, {CORPUS_FILE: corpus}, now)
            await self._put(tx, job.id, BASE, base_files, now)
            job = await self._deferred(tx, job)
        log.info("job %d queued: '%s' for guild %d", job.id, model_name, guild_id)
        return job, True

    async def identity(self) -> str:
        if self._identity is None:
            row = await self.store.one("SELECT identity FROM queue_identity")
            self._identity = str(row["identity"])
        return self._identity

    async def get(self, job_id: int) -> Job | None:
        row = await self.store.one("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return Job.from_row(row) if row else None

    async def position(self, job_id: int) -> int | None:
        row = await self.store.one(
            "SELECT CASE WHEN status = 'queued' THEN (SELECT COUNT(*) FROM jobs q"
            " WHERE q.status = 'queued' AND q.id <= jobs.id) END AS n FROM jobs WHERE id = ?",
            (job_id,),
        )
        return None if row is None or row["n"] is None else int(row["n"])

    async def list_for_guild(self, guild_id: int, limit: int = 10) -> list[Job]:
        rows = await self.store.all(
            "SELECT * FROM jobs WHERE guild_id = ? ORDER BY id DESC LIMIT ?", (guild_id, limit)
        )
        return [Job.from_row(r) for r in rows]

    async def active_jobs_for_user(self, user_id: int) -> int:
        return await self._count(_ACTIVE_COUNT + " AND user_id = ?", (user_id,))

    async def active_jobs_for_guild(self, guild_id: int) -> int:
        return await self._count(_ACTIVE_COUNT + " AND guild_id = ?", (guild_id,))

    async def corpus_bytes_for_guild(self, guild_id: int) -> int:
        return await self._count(_CORPUS_BYTES, (guild_id,))

    async def request_cancel(self, job_id: int) -> Job | None:
        now = self.clock()
        async with self.store.transaction() as tx:
            row = await tx.one(
                f"UPDATE jobs SET status = 'cancelled', finished_at = ?, {CLEAR_ERROR},"
                " corpus_deleted = 1 WHERE id = ? AND status = 'queued' RETURNING *",
                (now, job_id),
            )
            if row is not None:
                await _drop_blobs(tx, job_id, (CORPUS, BASE, CHECKPOINT))
                await _event(tx, job_id, CANCELLED, {"reason": "cancelled", "during": QUEUED}, now)
            else:
                row = await tx.one(
                    "UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND status = 'running'"
                    " RETURNING *",
                    (job_id,),
                )
            if row is None:
                row = await tx.one("SELECT * FROM jobs WHERE id = ?", (job_id,))
        job = Job.from_row(row) if row else None
        if job is not None and (job.status == CANCELLED or job.cancel_requested):
            await self._cancel_requested(job)
        return job

    async def events_after(
        self, job_id: int, after_id: int = 0, limit: int = 100
    ) -> list[JobEvent]:
        rows = await self.store.all(
            "SELECT * FROM job_events WHERE job_id = ? AND id > ? ORDER BY id LIMIT ?",
            (job_id, after_id, limit),
        )
        return [JobEvent.from_row(r) for r in rows]

    async def mark_reported(self, job_id: int, event_id: int) -> None:
        await self.store.exec(
            "UPDATE jobs SET reported_event_id = ? WHERE id = ? AND reported_event_id < ?",
            (event_id, job_id, event_id),
        )

    async def set_progress_message(self, job_id: int, message_id: int | None) -> None:
        await self.store.exec(
            "UPDATE jobs SET progress_message_id = ? WHERE id = ?", (message_id, job_id)
        )

    async def jobs_to_report(self, limit: int = 100, servers: Servers | None = None) -> list[Job]:
        where, params = _of_servers(servers)
        rows = await self.store.all(
            "SELECT * FROM jobs WHERE report_failed_at IS NULL AND (status IN"
            " ('queued', 'running') OR EXISTS (SELECT 1 FROM job_events e"
            " WHERE e.job_id = jobs.id AND e.id > jobs.reported_event_id))"
            f"{where} ORDER BY id LIMIT ?",
            (*params, limit),
        )
        return [Job.from_row(r) for r in rows]

    async def give_up_reporting(self, job_id: int) -> None:
        await self.store.exec(
            "UPDATE jobs SET report_failed_at = ? WHERE id = ?", (self.clock(), job_id)
        )

    async def jobs_to_import(self, limit: int = 20, servers: Servers | None = None) -> list[Job]:
        where, params = _of_servers(servers)
        rows = await self.store.all(
            f"SELECT * FROM jobs WHERE status = 'succeeded' AND model_id IS NULL{where}"
            " ORDER BY id LIMIT ?",
            (*params, limit),
        )
        return [Job.from_row(r) for r in rows]

    async def result_files(self, job_id: int) -> dict[str, bytes]:
        return await self.files(job_id, RESULT)

    async def mark_imported(self, job_id: int, model_id: int) -> None:
        async with self.store.transaction() as tx:
            await tx.exec(
                "UPDATE jobs SET model_id = ? WHERE id = ? AND status = 'succeeded'",
                (model_id, job_id),
            )
            await _drop_blobs(tx, job_id, (RESULT,))

    async def fail_import(self, job_id: int, reason: Reason) -> None:
        now = self.clock()
        async with self.store.transaction() as tx:
            row = await tx.one(
                f"UPDATE jobs SET status = 'failed', {SET_ERROR} WHERE id = ?"
                " AND status = 'succeeded' AND model_id IS NULL RETURNING attempts",
                (*_error(reason), job_id),
            )
            if row is not None:
                await _drop_blobs(tx, job_id, (RESULT,))
                payload = {**reason.payload(), "attempts": row["attempts"]}
                await _event(tx, job_id, FAILED, payload, now)

    async def delete_corpus(self, job_id: int) -> None:
        async with self.store.transaction() as tx:
            await _drop_blobs(tx, job_id, (CORPUS,))
            await tx.exec("UPDATE jobs SET corpus_deleted = 1 WHERE id = ?", (job_id,))

    async def finished_with_corpus(self, limit: int = 100) -> list[Job]:
        rows = await self.store.all(
            "SELECT * FROM jobs WHERE corpus_deleted = 0 AND status IN (?, ?, ?) LIMIT ?",
            (*FINISHED, limit),
        )
        return [Job.from_row(r) for r in rows]

    # ---- the worker's side ---------------------------------------------------------------

    async def files(self, job_id: int, kind: str) -> dict[str, bytes]:
        rows = await self.store.all(
            "SELECT name, sha256, size FROM job_blobs WHERE job_id = ? AND kind = ?",
            (job_id, kind),
        )
        out = {}
        for r in rows:
            name, size = r["name"], int(r["size"])
            check_name(kind, name)
            check_size(kind, name, size)
            parts = await self.store.all(
                f"SELECT data FROM job_blob_parts WHERE {_PART_OF} ORDER BY start",
                (job_id, kind, name),
            )
            data = b"".join(bytes(p["data"]) for p in parts)
            out[name] = Blob(kind, name, data, r["sha256"], size).verified()
        return out

    async def download(
        self,
        job_id: int,
        kind: str,
        directory: Path,
        *,
        stop: Callable[[], bool] = lambda: False,
    ) -> dict[str, Path]:
        """Write a job's blobs of one kind into ``directory`` (made if missing), each read a
        part at a time and checked (name, size limit, size, checksum): memory holds one part,
        and ``stop()`` is asked between parts (:class:`DownloadStopped`). A blob that fails a
        check raises :class:`BlobError`."""
        rows = await self.store.all(
            "SELECT name, sha256, size FROM job_blobs WHERE job_id = ? AND kind = ? ORDER BY name",
            (job_id, kind),
        )
        out = {}
        for r in rows:
            name, size = r["name"], int(r["size"])
            check_name(kind, name)
            check_size(kind, name, size)
            directory.mkdir(parents=True, exist_ok=True)
            out[name] = directory / name
            await self._download_one(job_id, kind, name, size, r["sha256"], out[name], stop)
        return out

    async def _download_one(
        self,
        job_id: int,
        kind: str,
        name: str,
        size: int,
        expected: str,
        path: Path,
        stop: Callable[[], bool],
    ) -> None:

        async def read(offset: int) -> bytes:
            row = await self.store.one(
                f"SELECT data FROM job_blob_parts WHERE {_PART_OF} AND start = ?",
                (job_id, kind, name, offset),
            )
            return bytes(row["data"]) if row is not None else b""

        def before_slice() -> None:
            if stop():
                raise DownloadStopped(f"job {job_id}: download of {name} stopped")

        with path.open("wb") as out:
            await receive(
                read,
                out,
                size=size,
                expected=expected,
                what=f"{kind} file {name}",
                before_slice=before_slice,
            )

    async def heartbeat(self, lease: Lease) -> Heartbeat:
        async with self.store.transaction() as tx:
            row = await tx.one(
                f"UPDATE jobs SET lease_expires = ? WHERE {FENCE} RETURNING cancel_requested",
                (self.clock() + self.lease_seconds, lease.job_id, lease.token),
            )
        if row is None:
            return Heartbeat(False, False)
        return Heartbeat(True, bool(row["cancel_requested"]))

    async def add_event(self, lease: Lease, kind: str, payload: dict[str, Any]) -> int:
        now = self.clock()
        async with self.store.transaction() as tx:
            job = await self._fenced(tx, lease)
            if kind == PROGRESS:  # keep only the progress the bot has not shown yet
                await tx.exec(
                    "DELETE FROM job_events WHERE job_id = ? AND kind = 'progress' AND id <= ?",
                    (lease.job_id, job["reported_event_id"]),
                )
            return await _event(tx, lease.job_id, kind, payload, now)

    async def save_checkpoint(self, lease: Lease, epoch: int, files: Mapping[str, Source]) -> None:
        check_files(CHECKPOINT, files)
        now = self.clock()
        async with self.store.transaction() as tx:
            await self._fenced(tx, lease)
            # in place: no row deleted and inserted again; cut off, the last one stays whole
            await self._put(tx, lease.job_id, CHECKPOINT, files, now, replace=True)
            marks = ",".join("?" * len(files)) or "NULL"
            await tx.exec(
                f"DELETE FROM job_blobs WHERE job_id = ? AND kind = ? AND name NOT IN ({marks})",
                (lease.job_id, CHECKPOINT, *files),
            )
            await tx.exec(
                "UPDATE jobs SET checkpoint_epoch = ? WHERE id = ?", (epoch, lease.job_id)
            )

    async def complete(
        self, lease: Lease, files: Mapping[str, Source], payload: dict[str, Any]
    ) -> Job:
        check_files(RESULT, files)
        now = self.clock()
        async with self.store.transaction() as tx:
            job = await self._fenced(tx, lease)
            if job["cancel_requested"]:
                raise CancelRequested(f"job {lease.job_id} was cancelled before it finished")
            await self._put(tx, lease.job_id, RESULT, files, now)
            await _drop_blobs(tx, lease.job_id, (BASE, CHECKPOINT))
            row = await tx.one(
                f"UPDATE jobs SET status = 'succeeded', {CLEAR_ERROR}, finished_at = ?,"
                f" {CLEAR_LEASE} WHERE id = ? RETURNING *",
                (now, lease.job_id),
            )
            await _event(
                tx, lease.job_id, SUCCEEDED, {"model_name": job["model_name"], **payload}, now
            )
        log.info(
            "job %d succeeded: '%s' waits for the bot to import it", lease.job_id, row["model_name"]
        )
        return Job.from_row(row)

    async def fail(self, lease: Lease, reason: Reason, *, retryable: bool) -> Job:
        now = self.clock()
        async with self.store.transaction() as tx:
            job = await self._fenced(tx, lease)
            attempts, most = job["attempts"], job["max_attempts"]
            if retryable and attempts < most:
                delay = backoff.delay(attempts, self.backoff_seconds, self.max_backoff_seconds)
                row = await tx.one(
                    f"UPDATE jobs SET status = 'queued', not_before = ?, {SET_ERROR},"
                    f" {CLEAR_LEASE} WHERE id = ? RETURNING *",
                    (now + delay, *_error(reason), lease.job_id),
                )
                payload = {
                    "attempt": attempts,
                    "max_attempts": most,
                    **reason.payload(),
                    "retry_in": round(delay),
                }
                await _event(tx, lease.job_id, RETRY, payload, now)
            else:
                row = await _finish(tx, lease.job_id, FAILED, reason, attempts, now)
        log.info("job %d: %s (%s)", lease.job_id, row["status"], reason.english())
        return Job.from_row(row)

    async def release(self, lease: Lease, reason: Reason = WORKER_STOPPED) -> Job:
        now = self.clock()
        async with self.store.transaction() as tx:
            await self._fenced(tx, lease)
            row = await tx.one(
                "UPDATE jobs SET status = 'queued', attempts = CASE WHEN attempts > 0"
                f" THEN attempts - 1 ELSE 0 END, not_before = 0, {CLEAR_LEASE} WHERE id = ?"
                " RETURNING *",
                (lease.job_id,),
            )
            payload = {**reason.payload(), "attempt": lease.attempt}
            await _event(tx, lease.job_id, RELEASED, payload, now)
        return Job.from_row(row)

    async def finish_cancelled(self, lease: Lease) -> Job:
        now = self.clock()
        async with self.store.transaction() as tx:
            job = await self._fenced(tx, lease)
            row = await _finish(tx, lease.job_id, CANCELLED, None, job["attempts"], now)
        return Job.from_row(row)

    async def statuses(self, job_ids: Sequence[int]) -> dict[int, str]:
        if not job_ids:
            return {}
        marks = ",".join("?" * len(job_ids))
        rows = await self.store.all(
            f"SELECT id, status FROM jobs WHERE id IN ({marks})", tuple(job_ids)
        )
        return {int(r["id"]): r["status"] for r in rows}

    # ---- shared by the engines -----------------------------------------------------------

    async def _begin(self, tx: Tx, job_id: int, worker_id: str) -> Lease | None:
        """Start an attempt on a queued job, or take over a running one whose worker is
        gone: a new lease token fences the old worker out. A job taken over once too often
        fails; one whose cancel was asked is cancelled. ``None`` when nothing is to run."""
        now = self.clock()
        row = await tx.one(f"SELECT * FROM jobs WHERE id = ?{self.store.for_update}", (job_id,))
        if row is None or row["status"] not in (QUEUED, RUNNING):
            return None
        taken_over = row["status"] == RUNNING
        if taken_over and row["cancel_requested"]:
            await _finish(tx, job_id, CANCELLED, None, row["attempts"], now)
            log.warning("job %d cancelled: its worker stopped while cancelling", job_id)
            return None
        if taken_over and row["attempts"] >= row["max_attempts"]:
            await _finish(tx, job_id, FAILED, GAVE_UP, row["attempts"], now)
            log.warning("job %d failed: %s", job_id, GAVE_UP.english())
            return None
        token = secrets.token_hex(16)
        expires = now + self.lease_seconds
        claimed = await tx.one(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_owner = ?,"
            " lease_token = ?, lease_expires = ?, started_at = COALESCE(started_at, ?)"
            " WHERE id = ? RETURNING attempts, max_attempts",
            (worker_id, token, expires, now, job_id),
        )
        if taken_over:
            payload = {
                "attempt": claimed["attempts"],
                "max_attempts": claimed["max_attempts"],
                **TAKEN_OVER.payload(),
                "retry_in": 0,
            }
            await _event(tx, job_id, RETRY, payload, now)
        log.info("%s started job %d (attempt %d)", worker_id, job_id, claimed["attempts"])
        return Lease(job_id, token, worker_id, int(claimed["attempts"]), expires)

    async def _fenced(self, tx: Tx, lease: Lease) -> Any:
        row = await tx.one(
            f"SELECT * FROM jobs WHERE {FENCE}{self.store.for_update}",
            (lease.job_id, lease.token),
        )
        if row is None:
            raise LeaseLost(f"job {lease.job_id}: this worker no longer holds the lease")
        return row

    async def _put(
        self,
        tx: Tx,
        job_id: int,
        kind: str,
        files: Mapping[str, Source],
        now: float,
        *,
        replace: bool = False,
    ) -> None:
        for name, source in files.items():
            await put_blob(
                tx, job_id, kind, name, source, now, self.store.chunk_bytes, replace=replace
            )

    async def _count(self, sql: str, params: tuple[Any, ...]) -> int:
        row = await self.store.one(sql, params)
        return int(row["n"] or 0) if row else 0

    async def _deferred(self, tx: Tx, job: Job) -> Job:
        """Hook: a job was inserted (in ``tx``); the engine may hand it to its dispatcher."""
        return job

    async def _cancel_requested(self, job: Job) -> None:
        """Hook: the bot cancelled a queued job or asked a running one to stop."""


async def _check_submit(
    tx: Tx, guild_id: int, user_id: int, name: str, corpus_bytes: int, limits: Limits | None
) -> None:
    taken = await tx.one(
        "SELECT 1 AS n FROM jobs WHERE model_name = ? AND guild_id = ?"
        " AND status IN ('queued', 'running')",
        (name, guild_id),
    )
    if taken:
        raise NameTaken(f"a model named '{name}' is being trained already")
    if limits is None:
        return
    user_jobs = await _scalar(tx, _ACTIVE_COUNT + " AND user_id = ?", (user_id,))
    if limits.max_jobs_per_user is not None and user_jobs >= limits.max_jobs_per_user:
        raise QuotaExceeded(
            f"you already have {user_jobs} training jobs queued or running "
            f"(limit {limits.max_jobs_per_user}); wait for one to finish or cancel one"
        )
    guild_jobs = await _scalar(tx, _ACTIVE_COUNT + " AND guild_id = ?", (guild_id,))
    if limits.max_jobs_per_guild is not None and guild_jobs >= limits.max_jobs_per_guild:
        raise QuotaExceeded(
            f"this server already has {guild_jobs} training jobs queued or running "
            f"(limit {limits.max_jobs_per_guild})"
        )
    stored = await _scalar(tx, _CORPUS_BYTES, (guild_id,))
    cap = limits.max_corpus_bytes_per_guild
    if cap is not None and stored + corpus_bytes > cap:
        raise QuotaExceeded(
            f"this server's uploaded texts would take {_mb(stored + corpus_bytes)} "
            f"(limit {_mb(cap)}); wait for queued jobs to finish"
        )


def _mb(n: int) -> str:
    return f"{n:,} bytes"  # exact: rounded megabytes can make over and under the limit look equal


async def _scalar(tx: Tx, sql: str, params: tuple[Any, ...]) -> int:
    row = await tx.one(sql, params)
    return int(row["n"] or 0) if row else 0


async def _finish(
    tx: Tx, job_id: int, status: str, reason: Reason | None, attempts: int, now: float
) -> Any:
    """End a job for good (failed for ``reason``, or cancelled): its inputs are no longer
    needed."""
    row = await tx.one(
        f"UPDATE jobs SET status = ?, {SET_ERROR}, finished_at = ?, {CLEAR_LEASE}"
        " WHERE id = ? RETURNING *",
        (status, *_error(reason), now, job_id),
    )
    await _drop_blobs(tx, job_id, (BASE, CHECKPOINT))
    if reason is None:
        payload: dict[str, Any] = {"reason": "cancelled", "during": RUNNING}
    else:
        payload = {**reason.payload(), "attempts": attempts}
    await _event(tx, job_id, status, payload, now)
    return row


def _error(reason: Reason | None) -> tuple[str | None, str | None, str | None]:
    """The job's error columns for ``reason``: its English sentence, its code, its params."""
    if reason is None:
        return None, None, None
    return reason.english(), reason.code, reason.params_json()


async def put_blob(
    tx: Tx,
    job_id: int,
    kind: str,
    name: str,
    source: Source,
    now: float,
    part_bytes: int,
    *,
    replace: bool = False,
) -> None:
    """Store ``source`` as the job's file ``name`` of ``kind`` in ``job_blob_parts``, a part
    of ``part_bytes`` at a time (memory holds one part; a file is streamed), its size and
    SHA-256 taken on the way. With ``replace``, over the job's file of that kind and name:
    parts overwritten in place, those past the new end deleted. All in ``tx``: a write cut off
    halfway leaves the file as it was."""
    check_name(kind, name)
    key = (job_id, kind, name)
    header = (
        "INSERT INTO job_blobs (job_id, kind, name, sha256, size, data, created_at)"
        " VALUES (?, ?, ?, '', 0, ?, ?)"
    )
    if replace:
        header += " ON CONFLICT (job_id, kind, name) DO UPDATE SET created_at = excluded.created_at"
    await tx.exec(header, (*key, b"", now))
    insert = "INSERT INTO job_blob_parts (job_id, kind, name, start, data) VALUES (?, ?, ?, ?, ?)"
    if replace:
        insert += " ON CONFLICT (job_id, kind, name, start) DO UPDATE SET data = excluded.data"
    digest, size = hashlib.sha256(), 0
    for part in parts_of(source, part_bytes):
        check_size(kind, name, size + len(part))  # a file that grew while it was read
        digest.update(part)
        await tx.exec(insert, (*key, size, part))
        size += len(part)
    if replace:
        await tx.exec(f"DELETE FROM job_blob_parts WHERE {_PART_OF} AND start >= ?", (*key, size))
    await tx.exec(
        "UPDATE job_blobs SET sha256 = ?, size = ? WHERE job_id = ? AND kind = ? AND name = ?",
        (digest.hexdigest(), size, *key),
    )


async def _drop_blobs(tx: Tx, job_id: int, kinds: Sequence[str]) -> None:
    marks = ",".join("?" * len(kinds))
    await tx.exec(f"DELETE FROM job_blobs WHERE job_id = ? AND kind IN ({marks})", (job_id, *kinds))


async def _event(tx: Tx, job_id: int, kind: str, payload: dict[str, Any], now: float) -> int:
    row = await tx.one(
        "INSERT INTO job_events (job_id, kind, payload, created_at) VALUES (?, ?, ?, ?)"
        " RETURNING id",
        (job_id, kind, json.dumps(payload), now),
    )
    return int(row["id"])


def _of_servers(servers: Servers | None) -> tuple[str, list[int]]:
    """`` AND <condition>`` choosing the jobs of ``servers`` (nothing for every server)."""
    if servers is None:
        return "", []
    condition, params = servers.sql()
    return f" AND {condition}", params

"""The embedded engine: the job queue in a SQLite database (by default the bot's own file).

The bot submits jobs and polls their events; worker processes claim them. A claim is a lease
(a random token with an expiry, renewed by heartbeats): a worker that dies stops renewing, and
once the lease has expired another worker reclaims the job. Every worker write is fenced by
the token, so a worker that lost its lease can change nothing (:class:`LeaseLost`).
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiosqlite

from .db import Database, Migrations
from .errors import CancelRequested, LeaseLost, NameTaken, QuotaExceeded, SubmitRejected
from .records import (
    ACTIVE,
    CANCELLED,
    FAILED,
    FINISHED,
    PROGRESS,
    QUEUED,
    RELEASED,
    RETRY,
    RUNNING,
    SUCCEEDED,
    Heartbeat,
    Job,
    JobEvent,
    Lease,
    Limits,
)

log = logging.getLogger(__name__)

SQLITE_MIGRATIONS = Migrations("jobs.migrations.sqlite", component="jobs")

_FENCE = "id = ? AND lease_token = ? AND status = 'running'"
_CLEAR_LEASE = "lease_owner = NULL, lease_token = NULL, lease_expires = NULL"


class JobQueue:
    def __init__(
        self,
        db: Database,
        *,
        lease_seconds: float = 60.0,
        max_attempts: int = 3,
        backoff_seconds: float = 15.0,
        max_backoff_seconds: float = 600.0,
        clock: Callable[[], float] = time.time,
    ):
        self.db = db
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.clock = clock

    @classmethod
    def from_settings(cls, db: Database, settings: Any, **kwargs: Any) -> JobQueue:
        return cls(
            db, lease_seconds=settings.lease_seconds, max_attempts=settings.max_attempts, **kwargs
        )

    # ---- the bot's side ------------------------------------------------------------------

    async def submit(
        self,
        *,
        guild_id: int,
        channel_id: int,
        user_id: int,
        model_name: str,
        corpus_path: str,
        corpus_bytes: int,
        params: dict[str, Any],
        base_model: str | None = None,
        dedupe_key: str | None = None,
        limits: Limits | None = None,
    ) -> tuple[Job, bool]:
        """Queue a job; ``(job, created)``. A known ``dedupe_key`` returns the existing job.

        Quotas in ``limits`` and the model name (no model or unfinished job of that name in
        the server or among the built-ins) are checked in the same transaction; a refusal
        raises :class:`QuotaExceeded` or :class:`NameTaken` with a message for the user.
        """
        now = self.clock()
        async with self.db.transaction() as conn:
            if dedupe_key is not None:
                row = await _one(conn, "SELECT * FROM jobs WHERE dedupe_key = ?", (dedupe_key,))
                if row is not None:
                    return Job.from_row(row), False
            await self._check_submit(conn, guild_id, user_id, model_name, corpus_bytes, limits)
            row = await _one(
                conn,
                "INSERT INTO jobs (guild_id, channel_id, user_id, model_name, base_model, params,"
                " corpus_path, corpus_bytes, dedupe_key, max_attempts, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (
                    guild_id,
                    channel_id,
                    user_id,
                    model_name,
                    base_model,
                    json.dumps(params),
                    corpus_path,
                    corpus_bytes,
                    dedupe_key,
                    self.max_attempts,
                    now,
                ),
            )
        job = Job.from_row(row)
        log.info("job %d queued: '%s' for guild %d", job.id, model_name, guild_id)
        return job, True

    async def _check_submit(
        self,
        conn: aiosqlite.Connection,
        guild_id: int,
        user_id: int,
        name: str,
        corpus_bytes: int,
        limits: Limits | None,
    ) -> None:
        taken = await _one(
            conn,
            "SELECT 1 FROM models WHERE name = ? AND guild_id IN (0, ?) UNION ALL"
            " SELECT 1 FROM jobs WHERE model_name = ? AND guild_id = ?"
            " AND status IN ('queued', 'running')",
            (name, guild_id, name, guild_id),
        )
        if taken:
            raise NameTaken(f"a model named '{name}' already exists or is being trained")
        if limits is None:
            return
        user_jobs = await _scalar(conn, _ACTIVE_COUNT + " AND user_id = ?", (user_id,))
        if limits.max_jobs_per_user is not None and user_jobs >= limits.max_jobs_per_user:
            raise QuotaExceeded(
                f"you already have {user_jobs} training jobs queued or running "
                f"(limit {limits.max_jobs_per_user}); wait for one to finish or cancel one"
            )
        guild_jobs = await _scalar(conn, _ACTIVE_COUNT + " AND guild_id = ?", (guild_id,))
        if limits.max_jobs_per_guild is not None and guild_jobs >= limits.max_jobs_per_guild:
            raise QuotaExceeded(
                f"this server already has {guild_jobs} training jobs queued or running "
                f"(limit {limits.max_jobs_per_guild})"
            )
        stored = await _scalar(conn, _CORPUS_BYTES, (guild_id,))
        cap = limits.max_corpus_bytes_per_guild
        if cap is not None and stored + corpus_bytes > cap:
            raise QuotaExceeded(
                f"this server's uploaded texts would take {_mb(stored + corpus_bytes)} "
                f"(limit {_mb(cap)}); wait for queued jobs to finish"
            )

    async def active_jobs_for_user(self, user_id: int) -> int:
        return await self._count(_ACTIVE_COUNT + " AND user_id = ?", (user_id,))

    async def active_jobs_for_guild(self, guild_id: int) -> int:
        return await self._count(_ACTIVE_COUNT + " AND guild_id = ?", (guild_id,))

    async def corpus_bytes_for_guild(self, guild_id: int) -> int:
        """Bytes of this server's uploaded texts still on disk."""
        return await self._count(_CORPUS_BYTES, (guild_id,))

    async def get(self, job_id: int) -> Job | None:
        row = await self.db.fetchone("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return Job.from_row(row) if row else None

    async def position(self, job_id: int) -> int | None:
        """Place in the queue (1 = next); ``None`` unless the job is queued."""
        row = await self.db.fetchone(
            "SELECT CASE WHEN status = 'queued' THEN (SELECT COUNT(*) FROM jobs q"
            " WHERE q.status = 'queued' AND q.id <= jobs.id) END FROM jobs WHERE id = ?",
            (job_id,),
        )
        return None if row is None or row[0] is None else int(row[0])

    async def list_for_guild(self, guild_id: int, limit: int = 10) -> list[Job]:
        rows = await self.db.fetchall(
            "SELECT * FROM jobs WHERE guild_id = ? ORDER BY id DESC LIMIT ?", (guild_id, limit)
        )
        return [Job.from_row(r) for r in rows]

    async def request_cancel(self, job_id: int) -> Job | None:
        """Cancel a queued job at once, or ask a running one's worker to stop.

        Returns the job as it now is (unchanged if it had already finished)."""
        now = self.clock()
        async with self.db.transaction() as conn:
            row = await _one(
                conn,
                "UPDATE jobs SET status = 'cancelled', finished_at = ?, error = NULL"
                " WHERE id = ? AND status = 'queued' RETURNING *",
                (now, job_id),
            )
            if row is not None:
                await _event(
                    conn, job_id, CANCELLED, {"reason": "cancelled", "during": QUEUED}, now
                )
                return Job.from_row(row)
            row = await _one(
                conn,
                "UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND status = 'running'"
                " RETURNING *",
                (job_id,),
            )
            if row is None:
                row = await _one(conn, "SELECT * FROM jobs WHERE id = ?", (job_id,))
        return Job.from_row(row) if row else None

    async def events_after(
        self, job_id: int, after_id: int = 0, limit: int = 100
    ) -> list[JobEvent]:
        rows = await self.db.fetchall(
            "SELECT * FROM job_events WHERE job_id = ? AND id > ? ORDER BY id LIMIT ?",
            (job_id, after_id, limit),
        )
        return [JobEvent.from_row(r) for r in rows]

    async def mark_reported(self, job_id: int, event_id: int) -> None:
        await self.db.execute(
            "UPDATE jobs SET reported_event_id = MAX(reported_event_id, ?) WHERE id = ?",
            (event_id, job_id),
        )

    async def set_progress_message(self, job_id: int, message_id: int | None) -> None:
        await self.db.execute(
            "UPDATE jobs SET progress_message_id = ? WHERE id = ?", (message_id, job_id)
        )

    async def jobs_to_report(self, limit: int = 100) -> list[Job]:
        """Unfinished jobs and jobs with events the bot has not shown yet, oldest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM jobs WHERE status IN ('queued', 'running') OR EXISTS (SELECT 1"
            " FROM job_events e WHERE e.job_id = jobs.id AND e.id > jobs.reported_event_id)"
            " ORDER BY id LIMIT ?",
            (limit,),
        )
        return [Job.from_row(r) for r in rows]

    # ---- the worker's side ---------------------------------------------------------------

    async def claim(self, worker_id: str) -> Lease | None:
        """Lease the oldest runnable job: queued and past its backoff, or running with an
        expired lease (its worker died). Jobs out of attempts are failed instead."""
        now = self.clock()
        async with self.db.transaction() as conn:
            await self._settle_expired(conn, now)
            row = await _one(
                conn,
                "SELECT id, status FROM jobs WHERE (status = 'queued' AND not_before <= ?)"
                " OR (status = 'running' AND lease_expires < ?) ORDER BY id LIMIT 1",
                (now, now),
            )
            if row is None:
                return None
            token = secrets.token_hex(16)
            expires = now + self.lease_seconds
            claimed = await _one(
                conn,
                "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_owner = ?,"
                " lease_token = ?, lease_expires = ?, started_at = COALESCE(started_at, ?)"
                " WHERE id = ? AND status = ? RETURNING attempts, max_attempts",
                (worker_id, token, expires, now, row["id"], row["status"]),
            )
            if row["status"] == RUNNING:
                await _event(
                    conn,
                    row["id"],
                    RETRY,
                    {
                        "attempt": claimed["attempts"],
                        "max_attempts": claimed["max_attempts"],
                        "reason": "the worker training it stopped responding",
                        "retry_in": 0,
                    },
                    now,
                )
        log.info("%s claimed job %d (attempt %d)", worker_id, row["id"], claimed["attempts"])
        return Lease(row["id"], token, worker_id, claimed["attempts"], expires)

    async def _settle_expired(self, conn: aiosqlite.Connection, now: float) -> None:
        """Expired leases that must not run again: cancelled, or out of attempts."""
        async with conn.execute(
            "UPDATE jobs SET status = CASE WHEN cancel_requested THEN 'cancelled'"
            " ELSE 'failed' END, error = CASE WHEN cancel_requested THEN NULL ELSE ? END,"
            f" finished_at = ?, {_CLEAR_LEASE} WHERE status = 'running' AND lease_expires < ?"
            " AND (cancel_requested = 1 OR attempts >= max_attempts)"
            " RETURNING id, status, error, attempts",
            ("the training worker stopped responding too many times", now, now),
        ) as cursor:
            rows = list(await cursor.fetchall())
        for row in rows:
            if row["status"] == CANCELLED:
                payload = {"reason": "cancelled", "during": RUNNING}
            else:
                payload = {"reason": row["error"], "attempts": row["attempts"]}
            await _event(conn, row["id"], row["status"], payload, now)
            log.warning("job %d %s after its lease expired", row["id"], row["status"])

    async def heartbeat(self, lease: Lease) -> Heartbeat:
        """Renew the lease; says whether it is still held and whether cancel was asked."""
        async with self.db.transaction() as conn:
            row = await _one(
                conn,
                f"UPDATE jobs SET lease_expires = ? WHERE {_FENCE} RETURNING cancel_requested",
                (self.clock() + self.lease_seconds, lease.job_id, lease.token),
            )
        if row is None:
            return Heartbeat(False, False)
        return Heartbeat(True, bool(row["cancel_requested"]))

    async def add_event(self, lease: Lease, kind: str, payload: dict[str, Any]) -> int:
        """Record an event for the leased job; raises :class:`LeaseLost`."""
        now = self.clock()
        async with self.db.transaction() as conn:
            job = await _fenced(conn, lease)
            if kind == PROGRESS:  # keep only the progress the bot has not shown yet
                await conn.execute(
                    "DELETE FROM job_events WHERE job_id = ? AND kind = 'progress' AND id <= ?",
                    (lease.job_id, job["reported_event_id"]),
                )
            return await _event(conn, lease.job_id, kind, payload, now)

    async def complete(
        self,
        lease: Lease,
        *,
        card: dict[str, Any],
        path: str,
        plot_path: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> int:
        """Insert the model row and mark the job succeeded, in one fenced transaction.

        The model's files must already be published at ``path``; if this raises
        (:class:`LeaseLost`; :class:`NameTaken` when the name was taken meanwhile;
        :class:`CancelRequested` when the user cancelled meanwhile) the caller removes them.
        Returns the new model id."""
        now = self.clock()
        async with self.db.transaction() as conn:
            job = await _fenced(conn, lease)
            if job["cancel_requested"]:
                raise CancelRequested(f"job {lease.job_id} was cancelled before it was published")
            name, guild_id = job["model_name"], job["guild_id"]
            taken = await _one(
                conn, "SELECT 1 FROM models WHERE name = ? AND guild_id IN (0, ?)", (name, guild_id)
            )
            if taken:
                raise NameTaken(f"a model named '{name}' was created in the meantime")
            created = datetime.now(UTC).isoformat(timespec="seconds")
            model = await _one(
                conn,
                "INSERT INTO models (name, guild_id, owner_id, base, card, path, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    name,
                    guild_id,
                    job["user_id"],
                    job["base_model"],
                    json.dumps(card),
                    path,
                    created,
                ),
            )
            model_id = int(model["id"])
            await conn.execute(
                f"UPDATE jobs SET status = 'succeeded', model_id = ?, plot_path = ?, error = NULL,"
                f" finished_at = ?, {_CLEAR_LEASE} WHERE id = ?",
                (model_id, plot_path, now, lease.job_id),
            )
            body = {
                "model_id": model_id,
                "model_name": name,
                "path": path,
                "card": card,
                "plot": plot_path,
                **(payload or {}),
            }
            await _event(conn, lease.job_id, SUCCEEDED, body, now)
        log.info("job %d succeeded: model %d '%s'", lease.job_id, model_id, name)
        return model_id

    async def fail(self, lease: Lease, reason: str, *, retryable: bool) -> Job:
        """Retry later (exponential backoff) while attempts remain, else fail for good.

        ``reason`` is shown to the user. Returns the job (``queued`` or ``failed``)."""
        now = self.clock()
        async with self.db.transaction() as conn:
            job = await _fenced(conn, lease)
            attempts, most = job["attempts"], job["max_attempts"]
            if retryable and attempts < most:
                delay = min(self.max_backoff_seconds, self.backoff_seconds * 2 ** (attempts - 1))
                row = await _one(
                    conn,
                    f"UPDATE jobs SET status = 'queued', not_before = ?, error = ?, {_CLEAR_LEASE}"
                    " WHERE id = ? RETURNING *",
                    (now + delay, reason, lease.job_id),
                )
                await _event(
                    conn,
                    lease.job_id,
                    RETRY,
                    {
                        "attempt": attempts,
                        "max_attempts": most,
                        "reason": reason,
                        "retry_in": delay,
                    },
                    now,
                )
            else:
                row = await _one(
                    conn,
                    f"UPDATE jobs SET status = 'failed', error = ?, finished_at = ?, {_CLEAR_LEASE}"
                    " WHERE id = ? RETURNING *",
                    (reason, now, lease.job_id),
                )
                await _event(
                    conn, lease.job_id, FAILED, {"reason": reason, "attempts": attempts}, now
                )
        log.info("job %d: %s (%s)", lease.job_id, row["status"], reason)
        return Job.from_row(row)

    async def release(self, lease: Lease, reason: str = "the worker shut down") -> Job:
        """Put a running job back in the queue (graceful shutdown); the attempt is not
        counted and its checkpoint is kept. Raises :class:`LeaseLost`."""
        now = self.clock()
        async with self.db.transaction() as conn:
            await _fenced(conn, lease)
            row = await _one(
                conn,
                "UPDATE jobs SET status = 'queued', attempts = MAX(0, attempts - 1),"
                f" not_before = 0, {_CLEAR_LEASE} WHERE id = ? RETURNING *",
                (lease.job_id,),
            )
            await _event(
                conn, lease.job_id, RELEASED, {"reason": reason, "attempt": lease.attempt}, now
            )
        return Job.from_row(row)

    async def finish_cancelled(self, lease: Lease) -> Job:
        """The worker stopped a job whose cancel was requested. Raises :class:`LeaseLost`."""
        now = self.clock()
        async with self.db.transaction() as conn:
            await _fenced(conn, lease)
            row = await _one(
                conn,
                f"UPDATE jobs SET status = 'cancelled', finished_at = ?, {_CLEAR_LEASE}"
                " WHERE id = ? RETURNING *",
                (now, lease.job_id),
            )
            await _event(
                conn, lease.job_id, CANCELLED, {"reason": "cancelled", "during": RUNNING}, now
            )
        return Job.from_row(row)

    # ---- housekeeping (workers) ----------------------------------------------------------

    async def finished_with_corpus(self, limit: int = 100) -> list[Job]:
        rows = await self.db.fetchall(
            "SELECT * FROM jobs WHERE corpus_deleted = 0 AND status IN (?, ?, ?) LIMIT ?",
            (*FINISHED, limit),
        )
        return [Job.from_row(r) for r in rows]

    async def mark_corpus_deleted(self, job_id: int) -> None:
        await self.db.execute("UPDATE jobs SET corpus_deleted = 1 WHERE id = ?", (job_id,))

    async def statuses(self, job_ids: list[int]) -> dict[int, str]:
        if not job_ids:
            return {}
        marks = ",".join("?" * len(job_ids))
        rows = await self.db.fetchall(f"SELECT id, status FROM jobs WHERE id IN ({marks})", job_ids)
        return {int(r["id"]): r["status"] for r in rows}

    async def is_orphan_model_dir(self, job_id: int, path: str) -> bool:
        """True when no model row names ``path`` and its job is not active (one snapshot)."""
        row = await self.db.fetchone(
            "SELECT (SELECT status FROM jobs WHERE id = ?),"
            " EXISTS (SELECT 1 FROM models WHERE path = ?)",
            (job_id, path),
        )
        return row is not None and row[0] not in ACTIVE and not row[1]

    async def _count(self, sql: str, params: tuple[Any, ...]) -> int:
        row = await self.db.fetchone(sql, params)
        return int(row[0] or 0) if row else 0


_ACTIVE_COUNT = "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')"
_CORPUS_BYTES = (
    "SELECT COALESCE(SUM(corpus_bytes), 0) FROM jobs WHERE guild_id = ? AND corpus_deleted = 0"
)


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"


async def _one(conn: aiosqlite.Connection, sql: str, params: tuple[Any, ...] = ()) -> Any:
    async with conn.execute(sql, params) as cursor:
        rows = await cursor.fetchall()
    return rows[0] if rows else None


async def _scalar(conn: aiosqlite.Connection, sql: str, params: tuple[Any, ...]) -> int:
    row = await _one(conn, sql, params)
    return int(row[0] or 0) if row else 0


async def _fenced(conn: aiosqlite.Connection, lease: Lease) -> Any:
    row = await _one(conn, f"SELECT * FROM jobs WHERE {_FENCE}", (lease.job_id, lease.token))
    if row is None:
        raise LeaseLost(f"job {lease.job_id}: this worker no longer holds the lease")
    return row


async def _event(
    conn: aiosqlite.Connection, job_id: int, kind: str, payload: dict[str, Any], now: float
) -> int:
    row = await _one(
        conn,
        "INSERT INTO job_events (job_id, kind, payload, created_at) VALUES (?, ?, ?, ?)"
        " RETURNING id",
        (job_id, kind, json.dumps(payload), now),
    )
    return int(row["id"])


__all__ = [
    "CancelRequested",
    "Heartbeat",
    "Job",
    "JobEvent",
    "JobQueue",
    "Lease",
    "LeaseLost",
    "Limits",
    "NameTaken",
    "QuotaExceeded",
    "SubmitRejected",
]

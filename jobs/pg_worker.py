"""procrastinate's worker, made to last on a database it shares with other machines.

What procrastinate's own worker does not do, and this one does (:class:`FleetWorker`):

- **Database trouble is passing trouble.** A failed heartbeat, fetch, listener or status
  write is logged and tried again with a growing, jittered delay
  (:class:`jobs.backoff.Backoff`) instead of stopping the worker; the worker takes the next
  job once the database is back.
- **Each worker's own lease.** A worker records in ``worker_leases`` after how many silent
  seconds it counts as dead (from its own ``LSTM_BOT_LEASE_SECONDS``); the others judge it by
  that figure, never by theirs, and no worker is judged by the time the database itself was
  down (the server's start time counts as a heartbeat).
- **Dead workers are looked for all the time** (:meth:`FleetWorker._look_after_others`, a side
  task), not only when a worker is idle.
- **Fenced task ends.** A worker finishes or retries its procrastinate task only while that
  task is still its own (``doing``, fetched by this worker), so a worker that was taken for
  dead and comes back can't delete or requeue the task its successor now runs. A worker whose
  row was pruned meanwhile registers again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from procrastinate import exceptions as procrastinate_errors
from procrastinate import jobs as procrastinate_jobs
from procrastinate import utils as procrastinate_utils
from procrastinate.job_context import JobContext
from procrastinate.manager import JobManager
from procrastinate.retry import RetryDecision
from procrastinate.worker import Worker

from .backoff import Backoff
from .errors import QueueUnavailable
from .pg import PgStore

log = logging.getLogger(__name__)

# What a database outage raises, through procrastinate or directly.
DB_ERRORS = (procrastinate_errors.ConnectorException, psycopg.Error, OSError, QueueUnavailable)
UNREGISTER_SECONDS = 5.0
_TAKEOVER_LOCK = 74_021_634  # pg_advisory_xact_lock key: one takeover check at a time

_REGISTER = (
    "WITH w AS (INSERT INTO procrastinate_workers DEFAULT VALUES RETURNING id)"
    " INSERT INTO worker_leases (worker_id, name, lease_seconds, dead_after)"
    " SELECT id, %(name)s, %(lease)s, %(dead_after)s FROM w RETURNING worker_id"
)
_BEAT = "UPDATE procrastinate_workers SET last_heartbeat = now() WHERE id = %(id)s RETURNING id"
# Workers silent for longer than their own dead_after (the server's start counts as a beat).
_DEAD_WORKERS = (
    "DELETE FROM procrastinate_workers w WHERE greatest(w.last_heartbeat,"
    " pg_postmaster_start_time()) < now() - make_interval(secs => COALESCE((SELECT"
    " l.dead_after FROM worker_leases l WHERE l.worker_id = w.id), ?)) RETURNING w.id"
)
# Tasks being done by no worker (theirs was pruned: procrastinate_jobs.worker_id is SET NULL).
_ORPHAN_TASKS = (
    "SELECT id, args FROM procrastinate_jobs WHERE status = 'doing' AND worker_id IS NULL"
    " AND queue_name = ? ORDER BY id FOR UPDATE SKIP LOCKED"
)
_RETRY_TASK = "SELECT procrastinate_retry_job_v2(?, NULL, NULL, NULL, NULL)"


def trouble(exc: BaseException) -> str:
    """One line on a database error (psycopg's message names host and port, never the
    password)."""
    cause = exc.__cause__ or exc
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[0]}" if text else type(cause).__name__


def _worker_gone(exc: BaseException) -> bool:
    """Our procrastinate_workers row was deleted (we were taken for dead)."""
    return isinstance(exc.__cause__ or exc, psycopg.errors.ForeignKeyViolation)


class FleetManager(JobManager):
    """procrastinate's job manager, registering the worker with its own lease."""

    def __init__(self, connector: Any, *, name: str, lease_seconds: float, dead_after: float):
        super().__init__(connector)
        self.name, self.lease_seconds, self.dead_after = name, lease_seconds, dead_after

    async def register_worker(self) -> int:
        row = await self.connector.execute_query_one_async(
            query=_REGISTER, name=self.name, lease=self.lease_seconds, dead_after=self.dead_after
        )
        return int(row["worker_id"])

    async def unregister_worker(self, worker_id: int) -> None:
        """Bounded: a worker stopping while the database is down exits soon (the others
        prune its row once the database is back)."""
        try:
            await asyncio.wait_for(super().unregister_worker(worker_id), UNREGISTER_SECONDS)
        except TimeoutError:
            raise procrastinate_errors.ConnectorException("unregistering timed out") from None

    async def prune_stalled_workers(self, seconds_since_heartbeat: float) -> list[int]:
        return []  # judged by each worker's own lease: see take_over_dead

    async def beat(self, worker_id: int) -> bool:
        """Say this worker is alive; ``False`` when its row is gone (it was taken for dead)."""
        rows = await self.connector.execute_query_all_async(query=_BEAT, id=worker_id)
        return bool(rows)

    async def end_task(
        self,
        job: procrastinate_jobs.Job,
        status: procrastinate_jobs.Status,
        retry: RetryDecision | None,
        delete: bool,
    ) -> bool:
        """Finish or retry ``job`` if it is still this worker's (``doing``, fetched by us, or
        by nobody since we were pruned); ``False`` when another worker has it now."""
        pool = self.connector.pool
        async with pool.connection() as conn, conn.transaction():
            cursor = await conn.execute(
                "SELECT worker_id FROM procrastinate_jobs WHERE id = %s AND status = 'doing'"
                " FOR UPDATE",
                (job.id,),
            )
            row = await cursor.fetchone()
            if row is None or row[0] not in (None, job.worker_id):
                return False
            if retry is not None:
                await conn.execute(
                    "SELECT procrastinate_retry_job_v2(%s, %s::timestamptz, %s::integer,"
                    " %s::varchar, %s::varchar)",
                    (job.id, retry.retry_at, retry.priority, retry.queue, retry.lock),
                )
            else:
                await conn.execute(
                    "SELECT procrastinate_finish_job_v1(%s, %s::procrastinate_job_status, %s)",
                    (job.id, status.value, delete),
                )
        return True


async def take_over_dead(store: PgStore, queue: str, default_dead_after: float) -> list[int]:
    """Prune the workers silent for longer than their own lease allows and put their tasks
    back in the queue (same task ids: they keep their place, oldest first); returns our job
    ids of those tasks. One worker at a time does it (a try-lock: the others skip)."""
    async with store.transaction() as tx:
        locked = await tx.one("SELECT pg_try_advisory_xact_lock(?) AS ok", (_TAKEOVER_LOCK,))
        if not locked["ok"]:
            return []
        dead = await tx.all(_DEAD_WORKERS, (default_dead_after,))
        if dead:
            log.warning("workers %s stopped responding", ", ".join(str(r["id"]) for r in dead))
        taken = []
        for task in await tx.all(_ORPHAN_TASKS, (queue,)):
            await tx.exec(_RETRY_TASK, (task["id"],))
            ours = (task["args"] or {}).get("job_id")
            if ours is not None:
                log.warning("job %s: its worker stopped responding; another one takes it", ours)
                taken.append(int(ours))
    return taken


class FleetWorker(Worker):
    """procrastinate's worker with the side tasks and task ends described above.

    ``look_after`` runs every ``check_every`` seconds (the takeover check and housekeeping)."""

    def __init__(
        self,
        app: Any,
        *,
        look_after: Callable[[], Awaitable[None]],
        check_every: float,
        **kwargs: Any,
    ):
        super().__init__(app, **kwargs)
        self.look_after, self.check_every = look_after, check_every
        self._fetch_backoff = Backoff()

    @property
    def manager(self) -> FleetManager:
        return self.app.job_manager

    def _start_side_tasks(self) -> list[asyncio.Task[Any]]:
        coros = {
            "update_heartbeats": self._update_heartbeat(),
            "poll_jobs_to_abort": self._poll_jobs_to_abort(),  # catches its own errors
            "listener": self._listen(),
            "look_after_others": self._look_after_others(),
        }
        return [asyncio.create_task(coro, name=name) for name, coro in coros.items()]

    async def _register_again(self) -> None:
        old, self.worker_id = self.worker_id, await self.manager.register_worker()
        log.warning(
            "this worker was taken for dead (silent too long: paused, or cut off);"
            " registered again (%s -> %s)",
            old,
            self.worker_id,
        )

    async def _update_heartbeat(self) -> None:
        backoff = Backoff(most=self.update_heartbeat_interval)
        delay = self.update_heartbeat_interval
        while True:
            await asyncio.sleep(delay)
            try:
                assert self.worker_id is not None
                if not await self.manager.beat(self.worker_id):
                    await self._register_again()
            except DB_ERRORS as exc:
                log.warning("heartbeat failed (%s); trying again", trouble(exc))
                delay = backoff.next()
                continue
            backoff.reset()
            delay = self.update_heartbeat_interval

    async def _listen(self) -> None:
        backoff = Backoff()
        while True:
            began = time.monotonic()
            try:
                await self.manager.listen_for_jobs(
                    on_notification=self._handle_notification, queues=self.queues
                )
            except DB_ERRORS as exc:
                log.warning("listening for new jobs failed (%s); polling meanwhile", trouble(exc))
            if time.monotonic() - began > 60:
                backoff.reset()
            self._new_job_event.set()  # jobs may have come while not listening: look now
            await asyncio.sleep(backoff.next())

    async def _look_after_others(self) -> None:
        while True:
            await asyncio.sleep(self.check_every)
            try:
                await self.look_after()
            except DB_ERRORS as exc:
                log.warning("looking for dead workers failed (%s)", trouble(exc))
            except Exception:  # noqa: BLE001 - never stop the worker for housekeeping
                log.exception("looking for dead workers failed")

    async def _fetch_and_process_jobs(self) -> None:
        try:
            await super()._fetch_and_process_jobs()
        except DB_ERRORS as exc:
            if _worker_gone(exc):
                await self._register_again()
                return
            log.warning("can't fetch jobs (%s); trying again", trouble(exc))
            await procrastinate_utils.wait_any(
                self._stop_event.wait(), asyncio.sleep(self._fetch_backoff.next())
            )
            self._new_job_event.set()
        else:
            self._fetch_backoff.reset()

    async def _persist_job_status(
        self,
        job: procrastinate_jobs.Job,
        status: procrastinate_jobs.Status,
        retry_decision: RetryDecision | None,
        context: JobContext,
        job_result: Any,
    ) -> None:
        delete = status == procrastinate_jobs.Status.SUCCEEDED  # delete_jobs="successful"
        backoff = Backoff()
        while True:
            try:
                if not await self.manager.end_task(job, status, retry_decision, delete):
                    log.info("task %s: another worker has it now; left to that worker", job.id)
                break
            except DB_ERRORS as exc:
                if self._stop_event.is_set():
                    log.warning(
                        "task %s: can't record its end (%s); another worker will settle it",
                        job.id,
                        trouble(exc),
                    )
                    break
                log.warning("task %s: can't record its end (%s); again soon", job.id, trouble(exc))
                await asyncio.sleep(backoff.next())
        assert job.id is not None
        self._job_ids_to_abort.pop(job.id, None)

    async def _shutdown(self, side_tasks: list[asyncio.Task[Any]]) -> None:
        try:
            await super()._shutdown(side_tasks)
        except DB_ERRORS as exc:
            log.warning("could not unregister (%s); the other workers will prune it", trouble(exc))

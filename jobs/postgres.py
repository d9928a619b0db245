"""The PostgreSQL engine: procrastinate (3.x, psycopg 3) dispatches the jobs of the job tables.

Bot and workers share only the database (``LSTM_BOT_QUEUE_URL``). What procrastinate does:

- ``submit`` defers a ``lstm_bot.train`` job (argument: our job id) in the same transaction as
  the job row, with a queueing lock per server and model name;
- a worker runs it (:meth:`PostgresQueue.serve`, procrastinate's worker as
  :class:`jobs.pg_worker.FleetWorker`): procrastinate fetches it and keeps the worker's
  heartbeat; every worker looks, from a side task, for workers silent for longer than their
  own lease allows (``worker_leases``) and puts their tasks back in the queue, where another
  worker resumes the job after its last stored checkpoint. Database trouble (a restart, a
  failover) is waited out with backoff, never a reason to stop;
- retries: a job the handler left queued (a passing failure, with its backoff, or a release
  at shutdown) is retried by procrastinate at that time (:class:`RetryLater`, our retry
  strategy);
- cancel: ``cancel_job_by_id_async(..., abort=True)``; the training callback polls the abort
  flag (through :meth:`PostgresQueue.heartbeat`) and stops within a second or so.

Our own writes stay fenced by the attempt's lease token in the ``jobs`` table, and a worker
ends its procrastinate task only while the task is still its own, so a worker that was
declared dead but is still alive can't overwrite the new owner's events, checkpoints or
result, nor end or requeue the task the new owner runs. Job events wake the bot through
LISTEN/NOTIFY (``lstm_bot_job_events``).

``lstm-bot db migrate`` (:func:`jobs.pg_schema.migrate`) creates or upgrades procrastinate's
schema and the job tables; bot and workers check them at start (:func:`check_schema`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import procrastinate
import psycopg
from procrastinate import exceptions as procrastinate_errors
from procrastinate.job_context import AbortReason, JobContext
from procrastinate.worker import Worker as ProcrastinateWorker
from psycopg_pool import AsyncConnectionPool

from .backoff import Backoff
from .errors import JobQueueError, LeaseLost, NameTaken, QueueUnavailable
from .pg import PgStore, PgTx, make_pool
from .pg_schema import SchemaError, check_schema, connection_problem, migrate
from .pg_worker import DB_ERRORS, FleetManager, FleetWorker, take_over_dead, trouble
from .queue import Handler
from .records import QUEUED, Heartbeat, Job, Lease
from .store import Tx
from .tables import TableQueue

log = logging.getLogger(__name__)

QUEUE = "lstm_bot"
TRAIN_TASK = "lstm_bot.train"
STALLED_TASK = "lstm_bot.retry_stalled_jobs"
EVENTS_CHANNEL = "lstm_bot_job_events"
ENDED_TASKS_KEPT_HOURS = 24  # procrastinate's rows of ended tasks, deleted after this
HOUSEKEEPING_SECONDS = 3600.0  # how often a worker deletes them


class RetryLater(Exception):
    """The handler left the job queued: procrastinate runs it again at ``at``."""

    def __init__(self, at: datetime):
        super().__init__(f"retry at {at.isoformat()}")
        self.at = at


class _RetryWhenQueued(procrastinate.BaseRetryStrategy):
    """Retry exactly when the job tables say so (their backoff, their attempt count)."""

    def get_retry_decision(
        self, *, exception: BaseException, job: Any
    ) -> procrastinate.RetryDecision | None:
        if isinstance(exception, RetryLater):
            return procrastinate.RetryDecision(retry_at=exception.at)
        return None


@dataclasses.dataclass(frozen=True)
class Timings:
    """From ``LSTM_BOT_LEASE_SECONDS``: how often a worker says it is alive, when it counts
    as dead (three heartbeats missed: a busy or slow machine is not taken for dead), how often
    the workers look for dead ones (with the default 60 s: 10, 30, 15, so a killed worker's
    job moves within about 45 s)."""

    heartbeat: float
    stalled_after: float
    check_every: int

    @classmethod
    def from_lease(cls, lease_seconds: float) -> Timings:
        return cls(
            max(0.3, lease_seconds / 6),
            max(1.0, lease_seconds / 2),
            max(1, round(lease_seconds / 4)),
        )


class PostgresQueue(TableQueue):
    def __init__(self, pool: AsyncConnectionPool, url: str, **kwargs: Any):
        super().__init__(PgStore(pool), **kwargs)
        self.pool = pool
        self.url = url
        self.app = procrastinate.App(connector=procrastinate.PsycopgConnector())
        self._contexts: dict[int, JobContext] = {}
        self._listener: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, url: str, *, check: bool = True, **kwargs: Any) -> PostgresQueue:
        try:  # one connection first: a wrong address or password fails at once
            await (await psycopg.AsyncConnection.connect(url, connect_timeout=15)).close()
        except psycopg.Error as exc:
            raise JobQueueError(connection_problem(url, exc)) from None
        pool = make_pool(url)
        try:
            await pool.open(wait=True, timeout=15)
        except Exception as exc:  # noqa: BLE001 - said in one line, its password masked
            await pool.close()
            raise JobQueueError(connection_problem(url, exc)) from None
        queue = cls(pool, url, **kwargs)
        await queue.app.open_async(pool)
        if check:
            try:
                await check_schema(pool)
            except BaseException:
                await queue.close()
                raise
        return queue

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None
        await self.app.close_async()
        await self.pool.close()

    # ---- dispatch hooks ------------------------------------------------------------------

    async def _deferred(self, tx: Tx, job: Job) -> Job:
        assert isinstance(tx, PgTx)
        deferrer = self.app.configure_task(
            TRAIN_TASK,
            queue=QUEUE,
            queueing_lock=f"train:{job.guild_id}:{job.model_name}",
            connection=tx.conn,
        )
        try:
            task_id = await deferrer.defer_async(job_id=job.id)
        except procrastinate_errors.AlreadyEnqueued:
            raise NameTaken(f"a model named '{job.model_name}' is being trained already") from None
        await tx.exec("UPDATE jobs SET task_id = ? WHERE id = ?", (task_id, job.id))
        return dataclasses.replace(job, task_id=task_id)

    async def _cancel_requested(self, job: Job) -> None:
        if job.task_id is not None:
            await self.app.job_manager.cancel_job_by_id_async(job.task_id, abort=True)

    async def heartbeat(self, lease: Lease) -> Heartbeat:
        beat = await super().heartbeat(lease)
        return Heartbeat(beat.held, beat.cancel_requested or self.cancel_seen(lease))

    def cancel_seen(self, lease: Lease) -> bool:
        """procrastinate's abort request (a user's), which its worker polls every second."""
        context = self._contexts.get(lease.job_id)
        return context is not None and context.abort_reason() == AbortReason.USER_REQUEST

    # ---- the bot: wake on events ---------------------------------------------------------

    def subscribe(self, callback: Callable[[], None]) -> None:
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(callback), name="job-events")

    async def _listen(self, callback: Callable[[], None]) -> None:
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {EVENTS_CHANNEL}")
                    callback()  # anything written while not listening
                    async for _ in conn.notifies():
                        callback()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the bot polls meanwhile
                log.warning("job events: listening failed (%s); retrying", type(exc).__name__)
            await asyncio.sleep(2.0)

    # ---- the worker ----------------------------------------------------------------------

    async def start(self, job_id: int, worker_id: str) -> Lease | None:
        """Begin an attempt on job ``job_id`` (what procrastinate's task does first)."""
        async with self.store.transaction() as tx:
            return await self._begin(tx, job_id, worker_id)

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
        """Run procrastinate's worker (:class:`jobs.pg_worker.FleetWorker`) until told to stop;
        if it stops for another reason (the database was unreachable when it started or
        ended), start it again after a jittered backoff."""
        timings = Timings.from_lease(self.lease_seconds)
        activity = {"busy": False, "since": time.monotonic(), "done": 0}
        self._register_tasks(handler, worker_id, activity)
        self.app.job_manager = FleetManager(
            self.app.connector,
            name=worker_id,
            lease_seconds=self.lease_seconds,
            dead_after=timings.stalled_after,
        )

        def finished() -> bool:
            idle = not activity["busy"] and time.monotonic() - activity["since"]
            if max_idle is not None and idle and idle >= max_idle:
                log.info("no job for %.0f s: exiting", max_idle)
                return True
            return stopping.is_set() or bool(once and activity["done"])

        housekeeping = {"last": 0.0}

        async def look_after() -> None:
            await take_over_dead(self.store, QUEUE, timings.stalled_after)
            await self.requeue_orphans()
            if time.monotonic() - housekeeping["last"] >= HOUSEKEEPING_SECONDS:
                housekeeping["last"] = time.monotonic()
                if deleted := await self.delete_ended_tasks():
                    log.info("deleted %d ended tasks of procrastinate's", deleted)

        backoff = Backoff()
        while not finished():
            worker = FleetWorker(
                self.app,
                look_after=look_after,
                check_every=timings.check_every,
                queues=[QUEUE],
                name=worker_id,
                concurrency=1,
                fetch_job_polling_interval=poll_seconds,
                abort_job_polling_interval=min(1.0, poll_seconds),
                delete_jobs="successful",
                install_signal_handlers=False,
                update_heartbeat_interval=timings.heartbeat,
            )
            watcher = asyncio.create_task(_stop_when(worker, finished))
            try:
                await worker.run()
                backoff.reset()
            except DB_ERRORS as exc:
                log.warning("the queue's database is unreachable (%s); trying again", trouble(exc))
            finally:
                watcher.cancel()
                await asyncio.gather(watcher, return_exceptions=True)
            if not finished():
                await _wait(stopping, backoff.next())

    def _register_tasks(self, handler: Handler, worker_id: str, activity: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()

        async def run(context: JobContext, job_id: int) -> None:
            activity["busy"] = True
            try:
                await self._run_task(handler, context, job_id, worker_id)
            finally:
                activity.update(busy=False, since=time.monotonic(), done=activity["done"] + 1)

        def train(context: JobContext, job_id: int) -> None:
            # A sync task: procrastinate runs it in a thread and never cancels it; an abort
            # request only sets context.should_abort(), which heartbeat() passes to training.
            asyncio.run_coroutine_threadsafe(run(context, job_id), loop).result()

        def retry_stalled_jobs(timestamp: int) -> None:
            """Left by older versions' periodic check (now a side task of every worker)."""

        self.app.task(name=TRAIN_TASK, queue=QUEUE, pass_context=True, retry=_RetryWhenQueued())(
            train
        )
        self.app.task(name=STALLED_TASK, queue=QUEUE)(retry_stalled_jobs)

    async def delete_ended_tasks(self, older_than_hours: int = ENDED_TASKS_KEPT_HOURS) -> int:
        """Delete procrastinate's rows of tasks that ended (succeeded, failed, cancelled,
        aborted) more than ``older_than_hours`` ago: the jobs table keeps the story.
        Returns how many were deleted."""
        before = await self.store.one("SELECT count(*) AS n FROM procrastinate_jobs")
        await self.app.job_manager.delete_old_jobs(
            nb_hours=older_than_hours,
            queue=QUEUE,
            include_failed=True,
            include_cancelled=True,
            include_aborted=True,
        )
        after = await self.store.one("SELECT count(*) AS n FROM procrastinate_jobs")
        return int(before["n"]) - int(after["n"])

    async def requeue_orphans(self) -> list[int]:
        """Unfinished jobs that no procrastinate job will run any more (its row failed or
        was finished by a worker that had lost the job) get a new one; returns their ids."""
        async with self.store.transaction() as tx:
            rows = await tx.all(
                "SELECT * FROM jobs WHERE status IN ('queued', 'running') AND NOT EXISTS"
                " (SELECT 1 FROM procrastinate_jobs p WHERE p.id = jobs.task_id"
                " AND p.status IN ('todo', 'doing')) FOR UPDATE SKIP LOCKED"
            )
            for row in rows:
                log.warning("job %d: no worker would ever run it; queueing it again", row["id"])
                await self._deferred(tx, Job.from_row(row))
        return [int(r["id"]) for r in rows]

    async def _run_task(
        self, handler: Handler, context: JobContext, job_id: int, worker_id: str
    ) -> None:
        lease = await self.start(job_id, worker_id)
        if lease is None:
            return  # cancelled, finished, or given up: nothing to run
        self._contexts[job_id] = context
        try:
            await handler(lease)
        except LeaseLost as exc:
            log.warning("%s; another worker has the job", exc)
            return
        except Exception:  # the handler could not even record a failure: run it again later
            log.exception("job %d: the worker could not finish it; it will be taken over", job_id)
            at = datetime.fromtimestamp(self.clock() + self.backoff_seconds, UTC)
            raise RetryLater(at) from None
        finally:
            self._contexts.pop(job_id, None)
        backoff = Backoff()
        while True:
            try:
                job = await self.get(job_id)
                break
            except QueueUnavailable as exc:
                log.warning("job %d: %s; trying again", job_id, exc)
                await asyncio.sleep(backoff.next())
        if job is not None and job.status == QUEUED:
            raise RetryLater(datetime.fromtimestamp(job.not_before or self.clock(), UTC))


async def _stop_when(worker: ProcrastinateWorker, finished: Callable[[], bool]) -> None:
    while not finished():
        await asyncio.sleep(0.2)
    worker.stop()


async def _wait(event: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(event.wait(), seconds)
    except TimeoutError:
        pass


# The engine's interface (jobs.engine.postgres_engine): the queue, and its schema's upgrade.
__all__ = ["PostgresQueue", "SchemaError", "Timings", "check_schema", "migrate"]

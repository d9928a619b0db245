"""The bot's side of training jobs: import results, turn the worker's events into messages.

Each pass first imports the results of succeeded jobs (:class:`bot.transfer.ResultImporter`:
the bot is the only writer of its registry), then looks at jobs with unreported events (or
still unfinished): one progress message per job, edited at most every ``EDIT_INTERVAL``
seconds, on the channel because jobs outlive the 15-minute interaction token, and the result
when the job ends, in the language of the member who started it (``Job.locale``), why it failed
or is retried included (:func:`.job_views.reason_text`). The loss plot waits on disk until the
result is posted (or the job is given up or ends without one) and is deleted then. What has
been shown is recorded in the queue (``progress_message_id``, ``reported_event_id``), so a
restarted bot carries on where it stopped.

Jobs are reported independently: one that fails (its channel deleted, access lost) is retried
with a jittered exponential backoff (:mod:`jobs.backoff`) while the others go on, logged
once, and given up after ``GIVE_UP_SECONDS`` of its channel refusing (its owner still has
``/job status``).

The queue wakes the reporter when a job event is written (PostgreSQL: LISTEN/NOTIFY); it also
polls every ``poll_seconds``.

Under Discord's rate limits a progress edit waits while its channel's edit bucket is nearly
spent (:mod:`bot.pacing`); a result is posted with a nonce Discord enforces, so a post whose
answer was lost and is tried again shows once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord

from bot.i18n import t
from bot.pacing import Pacing, channel_edit_key
from bot.transfer import ResultImporter, plot_path
from jobs import backoff
from jobs.queue import JobQueue
from jobs.records import SUCCEEDED, Job, Servers

from .job_views import progress_embed, reason_text, result_embed

log = logging.getLogger(__name__)

EDIT_INTERVAL = 5.0
BACKOFF_SECONDS = 5.0  # first retry of a job that failed to report (jobs.backoff.delay)
MAX_BACKOFF_SECONDS = 300.0
GIVE_UP_SECONDS = 3600.0  # a channel refusing for this long is given up


def result_nonce(identity: str, job_id: int) -> str:
    """The nonce of a job's result message: the queue's identity too, since job ids start at
    1 in every queue database (Discord allows 25 characters)."""
    return f"{identity[:12]}-{job_id}"[:25]


@dataclass
class _Trouble:
    since: float
    failures: int = 0
    next_try: float = 0.0


class JobReporter:
    """Reports the jobs of the servers ``servers()`` names (this process's shards) through
    ``client`` (channels, readiness), pacing its edits with ``pacing``."""

    def __init__(
        self,
        client: discord.Client,
        jobs: JobQueue,
        importer: ResultImporter,
        pacing: Pacing,
        *,
        servers: Callable[[], Servers | None],
        keep_corpora: bool,
        data_dir: Path,
        poll_seconds: float,
    ):
        self.client, self.jobs, self.importer, self.pacing = client, jobs, importer, pacing
        self.servers, self.keep_corpora, self.data_dir = servers, keep_corpora, data_dir
        self.poll_seconds = poll_seconds
        self._states: dict[int, dict[str, Any]] = {}
        self._last_edit: dict[int, float] = {}
        self._trouble: dict[tuple[str, int], _Trouble] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False

    def start(self) -> None:
        if self._task is None:
            self.jobs.subscribe(self.poke)
            self._task = asyncio.create_task(self._run(), name="job-reporter")

    async def stop(self) -> None:
        """Let the current pass finish (a posted message must get its id recorded), then end."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        if not self.client.is_ready():
            self._task.cancel()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=10)
        except (TimeoutError, asyncio.CancelledError):
            self._task.cancel()
        self._task = None

    def poke(self) -> None:
        """Report soon (a job was queued, or the queue says an event was written)."""
        self._wake.set()

    async def _run(self) -> None:
        await self.client.wait_until_ready()
        while not self._stopping:
            try:
                await self.report_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reporting job progress failed; will retry")
            if self._stopping:
                return
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass
            self._wake.clear()

    async def report_once(self) -> None:
        queue, servers = self.jobs, self.servers()  # other processes report their servers'
        for job in await queue.jobs_to_import(servers=servers):
            if self._due("import", job.id):
                await self._guarded("import", job, self.importer.import_job(job))
        for job in await queue.jobs_to_report(servers=servers):
            if self._due("report", job.id):
                await self._guarded("report", job, self._report(job))
        if not self.keep_corpora:
            for job in await queue.finished_with_corpus():
                await queue.delete_corpus(job.id)

    def _due(self, what: str, job_id: int) -> bool:
        trouble = self._trouble.get((what, job_id))
        return trouble is None or time.monotonic() >= trouble.next_try

    async def _guarded(self, what: str, job: Job, work: Any) -> None:
        """Run one job's import or report; a failure backs off this job only."""
        key = (what, job.id)
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._failed(key, job, exc)
        else:
            if self._trouble.pop(key, None) is not None:
                log.info("job %d: %s works again", job.id, what)

    async def _failed(self, key: tuple[str, int], job: Job, exc: Exception) -> None:
        now = time.monotonic()
        trouble = self._trouble.setdefault(key, _Trouble(since=now))
        trouble.failures += 1
        trouble.next_try = now + backoff.delay(
            trouble.failures, BACKOFF_SECONDS, MAX_BACKOFF_SECONDS
        )
        refused = isinstance(exc, discord.Forbidden | discord.NotFound)
        if trouble.failures == 1:
            if refused:
                log.warning(
                    "job %d: channel %d refuses the bot's messages (%s); retrying with backoff",
                    job.id,
                    job.channel_id,
                    type(exc).__name__,
                )
            else:
                log.exception("job %d: %s failed; retrying with backoff", job.id, key[0])
        if refused and key[0] == "report" and now - trouble.since >= GIVE_UP_SECONDS:
            await self.jobs.give_up_reporting(job.id)
            self._trouble.pop(key, None)
            await self._forget(job.id)
            log.warning(
                "job %d: gave up reporting to channel %d; /job status still shows it",
                job.id,
                job.channel_id,
            )

    async def _forget(self, job_id: int) -> None:
        """Drop what is kept for a job no longer reported, its loss plot included (posted
        with the result by now, or never to be)."""
        self._states.pop(job_id, None)
        self._last_edit.pop(job_id, None)
        plot_path(self.data_dir, await self.jobs.identity(), job_id).unlink(missing_ok=True)

    async def _report(self, job: Job) -> None:
        events = await self.jobs.events_after(job.id, job.reported_event_id)
        # The job as it is now, at least as new as these events: read before them, a job that
        # ended meanwhile would be shown running and its final event marked as reported.
        fresh = await self.jobs.get(job.id)
        if fresh is None:
            return
        job = fresh
        if job.status == SUCCEEDED and not job.imported:
            return  # its result is announced once imported
        state = self._states.setdefault(job.id, {})
        final: dict[str, Any] | None = None
        for event in events:
            payload = event.payload
            if event.kind == "started":
                state["device"] = payload.get("device")
                resumed = payload.get("resumed_from_epoch") or 0
                state["note"] = (
                    t(job.locale, "note.resuming", epoch=resumed)
                    if resumed
                    else t(job.locale, "note.starting")
                )
            elif event.kind == "progress":
                state["progress"] = payload
            elif event.kind == "epoch":
                state["sample"] = {
                    "epoch": payload["epoch"],
                    "seed": payload.get("sample_seed", ""),
                    "text": payload.get("sample", ""),
                }
            elif event.kind in {"retry", "released"}:
                code, params = payload.get("code"), payload.get("params")
                reason = reason_text(job.locale, code, params, payload.get("reason"))
                state["note"] = t(job.locale, "note.retrying", reason=reason)
                state.pop("progress", None)
            elif event.kind == "succeeded":
                final = state["result"] = payload
        changed = bool(events) or job.progress_message_id is None
        now = time.monotonic()
        due = now - self._last_edit.get(job.id, 0.0) >= EDIT_INTERVAL
        # A progress edit waits while its channel's edit bucket is nearly spent (bot.pacing).
        due = due and self.pacing.may_edit(channel_edit_key(job.channel_id))
        if job.progress_message_id is None or job.finished or (changed and due):
            await self._show_progress(job, state)
            self._last_edit[job.id] = now
        elif not due:
            return  # leave the events unreported; they are folded in at the next edit
        if job.finished and final is not None:
            await self._post_result(job, final)
        if events:
            await self.jobs.mark_reported(job.id, events[-1].id)
        if job.finished:
            await self._forget(job.id)

    async def _show_progress(self, job: Job, state: dict[str, Any]) -> None:
        channel = self.client.get_partial_messageable(job.channel_id)
        embed = progress_embed(job, state)
        if job.progress_message_id is not None:
            try:
                await channel.get_partial_message(job.progress_message_id).edit(embed=embed)
                return
            except discord.NotFound as exc:
                if exc.code != 10008:  # 10008 Unknown Message: someone deleted it, post anew
                    raise
        message = await channel.send(embed=embed)
        await self.jobs.set_progress_message(job.id, message.id)

    async def _post_result(self, job: Job, payload: dict[str, Any]) -> None:
        channel = self.client.get_partial_messageable(job.channel_id)
        embed = result_embed(job, payload)
        identity = await self.jobs.identity()
        plot = plot_path(self.data_dir, identity, job.id)
        files = []
        if plot.is_file():
            files.append(discord.File(plot, filename="loss.png"))
            embed.set_image(url="attachment://loss.png")
        # The nonce makes Discord return the result already posted instead of a second one
        # (a send whose answer was lost, tried again; within Discord's few minutes).
        await channel.send(embed=embed, files=files, nonce=result_nonce(identity, job.id))

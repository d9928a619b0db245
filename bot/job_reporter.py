"""The bot's side of training jobs: turn the worker's events into channel messages.

It polls the queue for jobs with unreported events (or still unfinished), keeps one progress
message per job up to date (edited at most every ``EDIT_INTERVAL`` seconds, on the channel
because jobs outlive the 15-minute interaction token), and posts the result when the job ends.
What has been shown is recorded in the database (``progress_message_id``,
``reported_event_id``), so a restarted bot carries on where it stopped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord

from .job_views import progress_embed, result_embed
from .jobqueue import JobQueue
from .jobs import Job

if TYPE_CHECKING:
    from .client import LSTMBot

log = logging.getLogger(__name__)

EDIT_INTERVAL = 5.0


class JobReporter:
    def __init__(self, bot: LSTMBot, queue: JobQueue, poll_seconds: float):
        self.bot = bot
        self.queue = queue
        self.poll_seconds = poll_seconds
        self._states: dict[int, dict[str, Any]] = {}
        self._last_edit: dict[int, float] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="job-reporter")

    async def stop(self) -> None:
        """Let the current pass finish (a posted message must get its id recorded), then end."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        if not self.bot.is_ready():
            self._task.cancel()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=10)
        except (TimeoutError, asyncio.CancelledError):
            self._task.cancel()
        self._task = None

    def poke(self) -> None:
        """Report soon (e.g. right after a job was queued)."""
        self._wake.set()

    async def _run(self) -> None:
        await self.bot.wait_until_ready()
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
        for job in await self.queue.jobs_to_report():
            await self._report(job)

    async def _report(self, job: Job) -> None:
        events = await self.queue.events_after(job.id, job.reported_event_id)
        state = self._states.setdefault(job.id, {})
        final: dict[str, Any] | None = None
        for event in events:
            payload = event.payload
            if event.kind == "started":
                state["device"] = payload.get("device")
                resumed = payload.get("resumed_from_epoch") or 0
                state["note"] = (
                    f"Resuming after epoch {resumed}…" if resumed else "Starting training…"
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
                state["note"] = f"Retrying: {payload.get('reason', 'the worker stopped')}"
                state.pop("progress", None)
            elif event.kind == "succeeded":
                final = state["result"] = payload
        changed = bool(events) or job.progress_message_id is None
        now = time.monotonic()
        due = now - self._last_edit.get(job.id, 0.0) >= EDIT_INTERVAL
        if job.progress_message_id is None or job.finished or (changed and due):
            await self._show_progress(job, state)
            self._last_edit[job.id] = now
        elif not due:
            return  # leave the events unreported; they are folded in at the next edit
        if job.finished and final is not None:
            await self._post_result(job, final)
        if events:
            await self.queue.mark_reported(job.id, events[-1].id)
        if job.finished:
            self._states.pop(job.id, None)
            self._last_edit.pop(job.id, None)

    async def _show_progress(self, job: Job, state: dict[str, Any]) -> None:
        channel = self.bot.get_partial_messageable(job.channel_id)
        embed = progress_embed(job, state)
        if job.progress_message_id is not None:
            try:
                await channel.get_partial_message(job.progress_message_id).edit(embed=embed)
                return
            except discord.NotFound:
                pass  # someone deleted it: post a new one
        message = await channel.send(embed=embed)
        await self.queue.set_progress_message(job.id, message.id)

    async def _post_result(self, job: Job, payload: dict[str, Any]) -> None:
        channel = self.bot.get_partial_messageable(job.channel_id)
        embed = result_embed(job, payload)
        plot = payload.get("plot")
        files = []
        if plot and Path(plot).is_file():
            files.append(discord.File(plot, filename="loss.png"))
            embed.set_image(url="attachment://loss.png")
        await channel.send(embed=embed, files=files)

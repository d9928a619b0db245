"""Housekeeping: checkpoints and corpora of finished jobs, model directories without a row."""

from __future__ import annotations

import logging
import re
import shutil
import time
from pathlib import Path

from bot.settings import Settings
from jobs.records import ACTIVE, Job
from jobs.sqlite import JobQueue

from .publish import DIR_RE

log = logging.getLogger(__name__)

ORPHAN_AGE_SECONDS = 3600.0  # a model directory this old without a row was never committed
_CKPT_RE = re.compile(r"^job-(\d+)$")


def checkpoint_dir(settings: Settings, job_id: int) -> Path:
    return settings.checkpoint_path / f"job-{job_id}"


def remove_checkpoints(settings: Settings, job_id: int) -> None:
    shutil.rmtree(checkpoint_dir(settings, job_id), ignore_errors=True)


async def remove_corpus(queue: JobQueue, settings: Settings, job: Job) -> None:
    """Delete a finished job's uploaded text (unless corpora are kept)."""
    if settings.keep_corpora or job.corpus_deleted:
        return
    path = Path(job.corpus_path)
    if path.resolve().is_relative_to(settings.corpus_path.resolve()):
        path.unlink(missing_ok=True)
    else:
        log.warning("job %d: not deleting %s, outside the corpus directory", job.id, path)
    await queue.mark_corpus_deleted(job.id)


async def sweep(queue: JobQueue, settings: Settings) -> None:
    root = settings.checkpoint_path
    found = {}
    if root.is_dir():
        for entry in root.iterdir():
            match = _CKPT_RE.match(entry.name)
            if match and entry.is_dir():
                found[int(match.group(1))] = entry
    statuses = await queue.statuses(list(found))
    for job_id, path in found.items():
        if statuses.get(job_id) not in ACTIVE:
            log.info("removing checkpoints of finished job %d", job_id)
            shutil.rmtree(path, ignore_errors=True)
    for job in await queue.finished_with_corpus():
        await remove_corpus(queue, settings, job)
    await _sweep_orphans(queue, settings.guild_model_path)


async def _sweep_orphans(queue: JobQueue, model_path: Path) -> None:
    if not model_path.is_dir():
        return
    cutoff = time.time() - ORPHAN_AGE_SECONDS
    for guild_dir in model_path.iterdir():
        if not (guild_dir.is_dir() and guild_dir.name.isdigit()):
            continue
        for entry in guild_dir.iterdir():
            match = DIR_RE.match(entry.name)
            if not match or not entry.is_dir() or entry.stat().st_mtime > cutoff:
                continue
            if await queue.is_orphan_model_dir(int(match.group(1)), str(entry.resolve())):
                log.info("removing %s: a model directory no model row refers to", entry)
                shutil.rmtree(entry, ignore_errors=True)

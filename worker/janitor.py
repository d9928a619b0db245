"""The worker's scratch directory: one folder per job it works on, removed when it is done.

Folders left by a worker that was killed are swept at start once their job is no longer
active (a job taken over on this machine gets its folder refilled from the queue).
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

from jobs.queue import JobQueue
from jobs.records import ACTIVE

log = logging.getLogger(__name__)

_JOB_RE = re.compile(r"^job-(\d+)$")


def job_dir(scratch: Path, job_id: int) -> Path:
    return scratch / f"job-{job_id}"


def remove_job_dir(scratch: Path, job_id: int) -> None:
    shutil.rmtree(job_dir(scratch, job_id), ignore_errors=True)


async def sweep(queue: JobQueue, scratch: Path) -> None:
    found = {}
    if scratch.is_dir():
        for entry in scratch.iterdir():
            match = _JOB_RE.match(entry.name)
            if match and entry.is_dir():
                found[int(match.group(1))] = entry
    statuses = await queue.statuses(list(found))
    for job_id, path in found.items():
        if statuses.get(job_id) not in ACTIVE:
            log.info("removing the scratch files of finished job %d", job_id)
            shutil.rmtree(path, ignore_errors=True)

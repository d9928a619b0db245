"""The worker's scratch directory: one folder per job it works on, removed when it is done.

A worker holds an exclusive lock (``flock``) on its job folder's ``.lock`` file while it works
on the job; the kernel drops it when the process dies. At start a worker removes every job
folder nobody holds: those of finished jobs, and those of jobs its killed predecessor on this
machine was working on (taken over elsewhere meanwhile, or refilled from the queue when this
machine takes the job again). Several workers may share one scratch directory.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import shutil
from pathlib import Path

log = logging.getLogger(__name__)

_JOB_RE = re.compile(r"^job-(\d+)$")
LOCK_FILE = ".lock"


def job_dir(scratch: Path, job_id: int) -> Path:
    return scratch / f"job-{job_id}"


def remove_job_dir(scratch: Path, job_id: int) -> None:
    shutil.rmtree(job_dir(scratch, job_id), ignore_errors=True)


class JobFolder:
    """A job's scratch folder, held by this process until :meth:`release` (which removes
    it)."""

    def __init__(self, scratch: Path, job_id: int):
        self.scratch, self.job_id = scratch, job_id
        self.path = job_dir(scratch, job_id)
        self.path.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(self.path / LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another worker of this machine had the job: it lost it
            log.warning("job %d: another worker here still holds its scratch folder", job_id)

    def release(self) -> None:
        remove_job_dir(self.scratch, self.job_id)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _held(path: Path) -> bool:
    """Whether a live process holds the folder's lock."""
    try:
        fd = os.open(path / LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o600)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def sweep(scratch: Path) -> None:
    """Remove the job folders no live worker holds."""
    if not scratch.is_dir():
        return
    for entry in scratch.iterdir():
        if _JOB_RE.match(entry.name) and entry.is_dir() and not _held(entry):
            log.info("removing the scratch files of %s, which no worker here holds", entry.name)
            shutil.rmtree(entry, ignore_errors=True)

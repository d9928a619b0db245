"""The one way to start a worker process (``python -m worker``): the console starts one beside
itself, tests and benchmarks start theirs, all with this."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def worker_command(*args: str) -> list[str]:
    """The command line of a worker process with this Python: ``python -m worker *args``."""
    return [sys.executable, "-m", "worker", *args]


def start_worker(
    env: Mapping[str, str], log: Path, *args: str, cwd: Path | None = None
) -> subprocess.Popen:
    """Start a worker with exactly the environment ``env`` (its settings), its output (stdout
    and stderr) appended to ``log``, no input."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            worker_command(*args),
            cwd=cwd,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

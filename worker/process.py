"""The one way to start a worker process (``python -m worker``): the console starts one beside
itself, tests and benchmarks start theirs, all with this."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without its lstm-bot settings and Discord token, plus
    ``settings``: a process started with it sees only the settings it is given."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("LSTM_BOT_", "DISCORD_"))}
    return {**kept, **settings}


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

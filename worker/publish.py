"""Publishing a trained model: files first (atomic rename), then the row, or nothing.

The files go to ``guild_model_path/<guild_id>/<name>-j<job>-<token8>``, a directory no one else
can be writing. The model row is inserted by :meth:`JobQueue.complete`, fenced by the lease,
in the transaction that marks the job succeeded; if that fails the files are removed. A crash
between the two leaves a directory without a row, which :mod:`worker.janitor` sweeps later.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from model_store import ModelArtifact, ModelStore

DIR_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*-j(\d+)-[0-9a-f]{8}$")


def model_dirname(name: str, job_id: int, token: str) -> str:
    return f"{name}-j{job_id}-{token[:8]}"


def publish_files(root: Path, guild_id: int, artifact: ModelArtifact, dirname: str) -> Path:
    """Write the model atomically; returns its absolute directory."""
    store = ModelStore(root / str(guild_id))
    return store.save(artifact, dirname=dirname).resolve()


def remove_files(path: Path) -> None:
    """Take a published directory away (rename first, so it vanishes at once)."""
    if path.exists():
        trash = path.with_name(f".trash-{path.name}")
        path.rename(trash)
        shutil.rmtree(trash, ignore_errors=True)

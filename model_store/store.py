"""A directory of models: list, load, publish atomically, delete.

Publishing stages a model in a hidden sibling directory and renames it into place: readers
see either no model or a complete one. Hidden entries (``.staging-*``, ``.trash-*``) are never
listed and are swept on open.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from pathlib import Path

from .artifact import ModelArtifact, load_artifact, read_card, write_artifact
from .errors import ArtifactError, InvalidNameError, ModelNotFoundError, ModelStoreError

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,31}$")
_DIR_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")
BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"
DEFAULT_MODEL = "nietzsche"
_STALE_SECONDS = 3600


def check_name(name: str) -> str:
    if not NAME_RE.match(name or ""):
        raise InvalidNameError(
            f"invalid model name '{name}': use 2-32 lowercase letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return name


class ModelStore:
    def __init__(self, root: str | Path, *, read_only: bool = False):
        self.root = Path(root)
        self.read_only = read_only
        if not read_only:
            self.root.mkdir(parents=True, exist_ok=True)
            self._sweep()

    def _sweep(self) -> None:
        now = time.time()
        for entry in self.root.glob(".*"):
            if entry.name.startswith((".staging-", ".trash-")) and entry.is_dir():
                if entry.name.startswith(".trash-") or now - entry.stat().st_mtime > _STALE_SECONDS:
                    shutil.rmtree(entry, ignore_errors=True)

    def path(self, name: str) -> Path:
        if not _DIR_RE.match(name or ""):
            check_name(name)
        return self.root / name

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and NAME_RE.match(p.name))

    def exists(self, name: str) -> bool:
        return NAME_RE.match(name or "") is not None and (self.root / name).is_dir()

    def _existing(self, name: str) -> Path:
        if not self.exists(name):
            raise ModelNotFoundError(f"unknown model '{name}'")
        return self.root / name

    def load(self, name: str) -> ModelArtifact:
        return load_artifact(self._existing(name), name)

    def card(self, name: str) -> dict:
        return read_card(self._existing(name), name)

    def save(
        self, artifact: ModelArtifact, *, dirname: str | None = None, overwrite: bool = False
    ) -> Path:
        """Publish ``artifact`` atomically under its name (or ``dirname``); returns its path."""
        if self.read_only:
            raise ModelStoreError(f"the model store at {self.root} is read-only")
        final = self.path(dirname or artifact.name)
        staging = self.root / f".staging-{uuid.uuid4().hex}"
        try:
            write_artifact(staging, artifact)
            fsync_path(staging)
            if final.exists():
                if not overwrite:
                    raise ModelStoreError(f"a model named '{artifact.name}' already exists")
                self.delete(final.name)
            os.rename(staging, final)
            fsync_path(self.root)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        return final

    def delete(self, name: str) -> None:
        if self.read_only:
            raise ModelStoreError(f"'{name}' is a built-in model and cannot be deleted")
        path = self._existing(name)
        trash = self.root / f".trash-{uuid.uuid4().hex}"
        os.rename(path, trash)
        shutil.rmtree(trash, ignore_errors=True)


def fsync_path(path: Path, *, entries: bool = True) -> None:
    """Flush ``path`` to disk: a file, or a folder (its entry list) and, with ``entries``,
    what it holds; what can't be opened is skipped."""
    with_entries = entries and path.is_dir()
    for entry in [path, *path.iterdir()] if with_entries else [path]:
        try:
            fd = os.open(entry, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class ModelCatalog:
    """The built-in models (read-only, shipped in the package) plus a user store."""

    def __init__(self, user_root: str | Path, builtin_root: str | Path = BUILTIN_DIR):
        self.builtin = ModelStore(builtin_root, read_only=True)
        self.user = ModelStore(user_root)

    def names(self) -> list[str]:
        return sorted(set(self.builtin.names()) | set(self.user.names()))

    def store_of(self, name: str) -> ModelStore:
        for store in (self.builtin, self.user):
            if store.exists(name):
                return store
        raise ModelNotFoundError(
            f"unknown model '{name}' (known: {', '.join(self.names()) or 'none'})"
        )

    def load(self, name: str) -> ModelArtifact:
        return self.store_of(name).load(name)

    def card(self, name: str) -> dict:
        return self.store_of(name).card(name)

    def is_builtin(self, name: str) -> bool:
        return self.builtin.exists(name)

    def check_new_name(self, name: str) -> None:
        check_name(name)
        if self.builtin.exists(name) or self.user.exists(name):
            raise ModelStoreError(f"a model named '{name}' already exists")


__all__ = ["ModelStore", "ModelCatalog", "check_name", "ArtifactError", "DEFAULT_MODEL"]

"""Where a model's files live: one interface, :class:`ModelFiles`, two places.

A server's model is a folder (``card.json``, ``weights.npz``, ``charset.json``; see
:mod:`model_store.artifact`). The registry keeps a *key* for it (its ``path`` column); the
code that reads the files asks :meth:`ModelFiles.local_path` for a folder on this machine.

- :class:`LocalModelFiles` (one bot on one machine, as always): the folder on disk is the
  truth; its key is its absolute path.
- :class:`PostgresModelFiles` (bot processes on several machines): every file is a blob in
  PostgreSQL (``bot/migrations/postgres/0002_model_files.sql``) with its SHA-256 and size,
  written and read in parts of ``chunk_bytes`` (1 MB), so memory holds one part. Its key is
  ``blob:<guild id>/<folder name>``. Each machine keeps a read-through cache folder
  (``LSTM_BOT_MODEL_CACHE``): a model is fetched on first use into a temporary folder, every
  file checked against its blob's SHA-256 (and the weights against the card's and the
  registry's checksum), then renamed into place, so a crash never leaves half a model; a cached
  file that no longer matches is fetched again; a blob that does not match is refused
  (:class:`ModelFilesError`: the model is marked broken, as for a damaged folder).

Keys that are not blob keys (the built-in models, shipped in the package, and models imported
before) are local folders with either store.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from jobs.blobs import PART_BYTES, BlobError, parts_of, receive
from model_store.artifact import CARD_FILE, WEIGHTS_FILE, read_card
from model_store.errors import ArtifactError
from model_store.store import fsync_path

log = logging.getLogger(__name__)

BLOB_PREFIX = "blob:"
CHUNK_BYTES = PART_BYTES
ORPHAN_SECONDS = 3600  # stored files without a row this long: left by a crash mid-import
_RELATIVE_RE = re.compile(r"^[0-9]{1,20}/[a-z0-9][a-z0-9_-]{0,127}$")
_INSTALL_TRIES = 3
STALE_SECONDS = 3600  # a temporary folder this old was left by a crash


class ModelFilesError(ArtifactError):
    """A model's stored files are missing or damaged (the model is marked broken)."""


class ModelFiles(Protocol):
    async def publish(self, folder: Path, relative: str) -> str:
        """Take over the complete model ``folder`` (staged by the caller; moved or removed)
        as the model ``relative`` (``<guild id>/<folder name>``); returns its key."""

    async def local_path(self, key: str, checksum: str = "", name: str | None = None) -> Path:
        """A folder on this machine holding the model ``key`` (whose weights' checksum is
        ``checksum``, if given); :class:`ModelFilesError` when its files can't be had."""

    async def delete(self, key: str) -> None:
        """Remove the model's files, wherever they are."""

    async def sweep_cache(self) -> None:
        """Remove this machine's copies of models deleted meanwhile (by any process)."""

    async def sweep_orphans(self, known: set[str], holds: Callable[[int], bool]) -> None:
        """Remove stored models of the servers ``holds`` says this process imports for that
        no key in ``known`` names (the bot stopped between storing and the row)."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...


class LocalModelFiles:
    """The folder on disk is the truth: no copy. Keys are absolute paths."""

    def __init__(self, root: Path):
        self.root = Path(root)

    async def publish(self, folder: Path, relative: str) -> str:
        final = self.root / _checked(relative)
        final.parent.mkdir(parents=True, exist_ok=True)
        folder.rename(final)
        return str(final.resolve())

    async def local_path(self, key: str, checksum: str = "", name: str | None = None) -> Path:
        return Path(key)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(remove_folder, Path(key))

    async def sweep_orphans(self, known: set[str], holds: Callable[[int], bool]) -> None:
        return None  # the folders: bot.transfer.sweep_orphans, over the data folder

    async def sweep_cache(self) -> None:
        return None  # no copies

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None


class PostgresModelFiles:
    """Model files as blobs in PostgreSQL, materialised on first use in a cache folder."""

    def __init__(self, conninfo: str, cache: Path, *, chunk_bytes: int = CHUNK_BYTES):
        from jobs.pg import PgStore, make_pool  # the postgres extra: only where it is used

        from .pg_state import use_state_schema

        self.cache = Path(cache)
        self.chunk_bytes = chunk_bytes
        self._pool = make_pool(conninfo, configure=use_state_schema)  # the bot's own schema
        self.store = PgStore(self._pool)
        self._fetching: dict[str, asyncio.Lock] = {}

    async def open(self) -> None:
        await self._pool.open()
        self.cache.mkdir(parents=True, exist_ok=True)
        # A crash's leftovers; a fetch of another process of this machine (a shared cache
        # folder) may be under way in a recent temporary folder.
        for entry in [*self.cache.glob(".*"), *self.cache.glob("*/.*")]:
            trash = entry.name.startswith(".trash-")
            old = entry.name.startswith(".fetch-") and _age(entry) > STALE_SECONDS
            if trash or old:
                shutil.rmtree(entry, ignore_errors=True)
        await self.sweep_cache()

    async def close(self) -> None:
        await self._pool.close()

    # ---- writing ------------------------------------------------------------------------

    async def publish(self, folder: Path, relative: str) -> str:
        """Store every file of ``folder`` (in one transaction), then keep the folder as this
        machine's cached copy."""
        relative = _checked(relative)
        files = sorted(p for p in folder.iterdir() if p.is_file())
        blobs = {p.name: (await asyncio.to_thread(_sha256_of, p), p.stat().st_size) for p in files}
        now = time.time()
        async with self.store.transaction() as tx:
            await tx.exec("DELETE FROM model_files WHERE model = ?", (relative,))
            for path in files:
                await tx.exec(
                    "INSERT INTO model_files (model, name, sha256, size, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (relative, path.name, *blobs[path.name], now),
                )
                start = 0
                for part in parts_of(path, self.chunk_bytes):
                    await self._write_part(tx, relative, path.name, start, part)
                    start += len(part)
        await asyncio.to_thread(_install, folder, self.cache / relative, self.cache, blobs)
        return BLOB_PREFIX + relative

    async def _write_part(self, tx: Any, relative: str, name: str, start: int, data: bytes) -> None:
        await tx.exec(
            "INSERT INTO model_file_parts (model, name, start, data) VALUES (?, ?, ?, ?)",
            (relative, name, start, data),
        )

    async def delete(self, key: str) -> None:
        """The blobs (their parts go with them) and this machine's cached copy; the other
        machines' copies go when they see the change (:meth:`sweep_cache`)."""
        if not key.startswith(BLOB_PREFIX):
            await asyncio.to_thread(remove_folder, Path(key))
            return
        relative = _checked(key.removeprefix(BLOB_PREFIX))
        await self.store.exec("DELETE FROM model_files WHERE model = ?", (relative,))
        await asyncio.to_thread(remove_folder, self.cache / relative)

    async def sweep_orphans(self, known: set[str], holds: Callable[[int], bool]) -> None:
        """Only models stored over ``ORPHAN_SECONDS`` ago: one being imported has no row yet."""
        rows = await self.store.all(
            "SELECT DISTINCT model FROM model_files WHERE created_at < ?",
            (time.time() - ORPHAN_SECONDS,),
        )
        for row in rows:
            key = BLOB_PREFIX + row["model"]
            if key not in known and holds(int(row["model"].split("/", 1)[0])):
                log.info("removing %s: stored model files no model row refers to", key)
                await self.delete(key)

    async def sweep_cache(self) -> None:
        """Remove cached copies of models no longer in the database: at start, and after
        every change to the bot's state (:class:`bot.change_watch.ChangeWatcher`)."""
        # The folders first: one put there after a store is committed, so its row is seen.
        cached = {
            f"{guild.name}/{folder.name}": folder
            for guild in self.cache.iterdir()
            if guild.is_dir() and guild.name.isdigit()
            for folder in guild.iterdir()
            if not folder.name.startswith(".")
        }
        if not cached:
            return
        rows = await self.store.all("SELECT DISTINCT model FROM model_files")
        for relative in cached.keys() - {r["model"] for r in rows}:
            log.info("removing the cached copy of a deleted model: %s", cached[relative])
            await asyncio.to_thread(remove_folder, cached[relative])

    # ---- reading ------------------------------------------------------------------------

    async def local_path(self, key: str, checksum: str = "", name: str | None = None) -> Path:
        if not key.startswith(BLOB_PREFIX):
            return Path(key)
        relative = _checked(key.removeprefix(BLOB_PREFIX))
        label = name or relative.rsplit("/", 1)[1]
        blobs = await self._blobs(relative)
        folder = self.cache / relative
        if not blobs:
            await asyncio.to_thread(remove_folder, folder)
            raise ModelFilesError(f"model '{label}' is not in the database (deleted?)")
        if checksum and blobs.get(WEIGHTS_FILE, ("", 0))[0] != checksum:
            raise ModelFilesError(
                f"model '{label}' is damaged in the database: {WEIGHTS_FILE} does not match"
                " the registry's checksum"
            )
        lock = self._fetching.setdefault(relative, asyncio.Lock())
        async with lock:
            if not await asyncio.to_thread(_matches, folder, blobs):
                await self._fetch(relative, blobs, folder, label)
        return folder

    async def _blobs(self, relative: str) -> dict[str, tuple[str, int]]:
        rows = await self.store.all(
            "SELECT name, sha256, size FROM model_files WHERE model = ?", (relative,)
        )
        return {r["name"]: (r["sha256"], int(r["size"])) for r in rows}

    async def _fetch(
        self, relative: str, blobs: dict[str, tuple[str, int]], folder: Path, label: str
    ) -> None:
        """Fetch every file into a temporary folder, checked, and rename it into place."""
        log.info("fetching model %s from the database into %s", label, folder)
        temporary = self.cache / f".fetch-{uuid.uuid4().hex}"
        temporary.mkdir(parents=True)
        try:
            for name, (sha256, size) in sorted(blobs.items()):
                await self._fetch_file(relative, name, sha256, size, temporary / name, label)
            _check_card(temporary, blobs, label)
            await asyncio.to_thread(_install, temporary, folder, self.cache, blobs)
        finally:
            await asyncio.to_thread(remove_folder, temporary)

    async def _fetch_file(
        self, relative: str, name: str, sha256: str, size: int, path: Path, label: str
    ) -> None:
        async def read(offset: int) -> bytes:
            return await self._read_part(relative, name, offset)

        try:
            with path.open("wb") as out:
                await receive(read, out, size=size, expected=sha256, what=name)
        except BlobError as exc:
            raise ModelFilesError(f"model '{label}' is damaged in the database: {exc}") from None

    async def _read_part(self, relative: str, name: str, start: int) -> bytes:
        row = await self.store.one(
            "SELECT data FROM model_file_parts WHERE model = ? AND name = ? AND start = ?",
            (relative, name, start),
        )
        return bytes(row["data"]) if row is not None else b""


def model_files_for(settings: Any, conninfo: str | None) -> ModelFiles:
    """Blobs in the PostgreSQL database ``conninfo`` (the bot's state) with this machine's cache
    ``LSTM_BOT_MODEL_CACHE``; without one, the data folder (``guild-models``), as always."""
    if conninfo:
        return PostgresModelFiles(conninfo, settings.model_cache_path)
    return LocalModelFiles(settings.guild_model_path)


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def _checked(relative: str) -> str:
    if not _RELATIVE_RE.match(relative):
        raise ModelFilesError(f"refusing a model key with an unsafe name: {relative!r}")
    return relative


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    for part in parts_of(path, CHUNK_BYTES):
        digest.update(part)
    return digest.hexdigest()


def _matches(folder: Path, blobs: dict[str, tuple[str, int]]) -> bool:
    """Whether ``folder`` holds every blob's file, of its size and checksum."""
    for name, (sha256, size) in blobs.items():
        path = folder / name
        if not path.is_file() or path.stat().st_size != size or _sha256_of(path) != sha256:
            if folder.is_dir():
                log.warning("cached model file %s is missing or damaged: fetching it again", path)
            return False
    return True


def _check_card(folder: Path, blobs: dict[str, tuple[str, int]], label: str) -> None:
    """The card's checksums agree with the blobs' (a blob replaced with its checksum)."""
    if CARD_FILE not in blobs:
        raise ModelFilesError(f"model '{label}' is incomplete in the database: no {CARD_FILE}")
    checksums = read_card(folder, label).get("checksums", {})
    for name, expected in checksums.items():
        if blobs.get(name, ("", 0))[0] != expected:
            raise ModelFilesError(
                f"model '{label}' is damaged in the database: {name} does not match the card's"
                " checksum"
            )


def _install(source: Path, final: Path, root: Path, blobs: dict[str, tuple[str, int]]) -> None:
    """Rename the complete, checked folder ``source`` to ``final`` (from another file system,
    copied into ``root`` first). A ``final`` already there that matches ``blobs`` is kept (another
    process of this machine put it there, and may be reading it): ``source`` is dropped; one
    that does not is moved aside first."""
    final.parent.mkdir(parents=True, exist_ok=True)
    if source.stat().st_dev != root.stat().st_dev:
        staging = root / f".fetch-{uuid.uuid4().hex}"
        shutil.copytree(source, staging)
        remove_folder(source)
        source = staging
    for _ in range(_INSTALL_TRIES):
        try:
            source.rename(final)  # atomic; refused while a non-empty ``final`` is there
            break
        except OSError:
            if not final.is_dir():
                raise
            if _matches(final, blobs):
                remove_folder(source)
                return
            remove_folder(final)
    else:
        raise ModelFilesError(f"can't put the model's files in place at {final}")
    fsync_path(final.parent, entries=False)


def remove_folder(path: Path) -> None:
    """Rename aside, then remove: a crash in between leaves a hidden folder, swept later.
    Gone meanwhile (another process of this machine removed it: a shared cache) is done."""
    if path.exists():
        trash = path.with_name(f".trash-{uuid.uuid4().hex}")
        try:
            path.rename(trash)
        except FileNotFoundError:
            return
        shutil.rmtree(trash, ignore_errors=True)

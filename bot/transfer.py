"""What the bot sends to a training job and takes back from it, through the queue only.

Out: the base model, by name and weights checksum when it is a built-in one (every worker has
the package), as its files when it is a server's own model. Back: the result, imported exactly
once per job (keyed by the queue's identity and the job id: job ids start at 1 in every queue
database, and the bot may move from one to another): files checked, staged in the server's
model directory, published through :mod:`bot.model_files` under a name no one else writes
(``<guild>/<name>-j<job>-<random>``: renamed into place, or stored as blobs in PostgreSQL), then
the registry row. A second delivery finds the row and changes nothing; two bot processes
importing the same result at once get one row (keyed by the job, in one transaction), and the
one that lost removes the files it stored; a crash between the files and the row leaves a
directory :func:`sweep_orphans` removes at the next start.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

from jobs.blobs import BlobError, expect_names
from jobs.queue import JobQueue
from jobs.reasons import Reason
from jobs.records import BaseModel, Job
from model_store import InvalidNameError, ModelStoreError, check_name
from model_store.artifact import CARD_FILE, CHARSET_FILE, WEIGHTS_FILE, decode_artifact
from model_store.store import BUILTIN_DIR

from .model_files import LocalModelFiles, ModelFiles, remove_folder
from .registry import ModelRecord, ModelRegistry, NameInUse

log = logging.getLogger(__name__)

MODEL_FILES = {WEIGHTS_FILE, CHARSET_FILE, CARD_FILE}
PLOT_FILE = "loss.png"
STAGING = ".staging-"
DIR_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*-j(\d+)-[0-9a-f]{8}$")


def base_model_for(record: ModelRecord, path: Path) -> BaseModel:
    """A built-in model of the package goes by name and checksum; any other as its files
    (read from ``path``, its folder on this machine: :meth:`ModelFiles.local_path`)."""
    if path.resolve().parent == BUILTIN_DIR.resolve():
        return BaseModel(
            record.name, checksum=str(record.card.get("checksums", {}).get(WEIGHTS_FILE))
        )
    return BaseModel(record.name, files={name: (path / name).read_bytes() for name in MODEL_FILES})


def valid_guild_id(guild_id: int) -> bool:
    """A Discord server's id: a positive 64-bit snowflake (0 is the built-in models')."""
    return 0 < guild_id < 2**63


def check_model_name(name: str) -> bool:
    try:
        check_name(name)
    except InvalidNameError:
        return False
    return True


def plot_path(data_dir: Path, queue: str, job_id: int) -> Path:
    """Where the loss plot of job ``job_id`` of the queue named ``queue`` waits to be posted."""
    return data_dir / "plots" / f"{queue}-job-{job_id}.png"


class ResultImporter:
    """Publishes succeeded jobs' models into the registry (the bot is its only writer)."""

    def __init__(
        self,
        queue: JobQueue,
        registry: ModelRegistry,
        model_root: Path,
        data_dir: Path,
        files: ModelFiles | None = None,
    ):
        self.queue = queue
        self.registry = registry
        self.model_root = model_root  # where results are staged (and kept, by local files)
        self.data_dir = data_dir
        self.files = files or LocalModelFiles(model_root)

    async def adopt_legacy(self) -> None:
        """Models imported before results were keyed by queue: those this queue's jobs were
        imported as become this queue's (see :meth:`ModelRegistry.adopt_results`)."""
        imported_as = {}
        for job_id in await self.registry.legacy_job_ids():
            job = await self.queue.get(job_id)
            imported_as[job_id] = job.model_id if job is not None else None
        if imported_as:
            adopted = await self.registry.adopt_results(await self.queue.identity(), imported_as)
            log.info("%d of %d earlier models come from this queue", adopted, len(imported_as))

    async def import_job(self, job: Job) -> ModelRecord | None:
        """Import ``job``'s result once; returns its model (``None`` if it can't be)."""
        queue = await self.queue.identity()
        record = await self.registry.by_job(queue, job.id)
        if record is None:
            record = await self._publish(queue, job)
            if record is None:
                return None
        await self.queue.mark_imported(job.id, record.id)
        log.info("job %d: imported as model %d '%s'", job.id, record.id, record.name)
        return record

    async def _publish(self, queue: str, job: Job) -> ModelRecord | None:
        """Write the result's files and its registry row; a result the bot can't take fails
        the job once, with its reason (passing trouble, a full disk or the database, raises:
        the reporter tries again with backoff)."""
        if not (check_model_name(job.model_name) and valid_guild_id(job.guild_id)):
            log.error("job %d: refused: server %d, name %r", job.id, job.guild_id, job.model_name)
            await self.queue.fail_import(job.id, Reason("result_refused"))
            return None
        try:
            files = await self.queue.result_files(job.id)
            expect_names("result", files, MODEL_FILES, MODEL_FILES | {PLOT_FILE})
            staging, card = await asyncio.to_thread(self._write, queue, job, files)
        except (BlobError, ModelStoreError, ValueError) as exc:
            log.error("job %d: its result is unusable: %s", job.id, exc)
            await self.queue.fail_import(job.id, Reason("result_damaged"))
            return None
        try:
            relative = f"{job.guild_id}/{staging.name.removeprefix(STAGING)}"
            key = await self.files.publish(staging, relative)
        finally:
            await asyncio.to_thread(shutil.rmtree, staging, True)
        try:
            record = await self.registry.add(
                name=job.model_name,
                guild_id=job.guild_id,
                owner_id=job.user_id,
                card=card,
                path=key,
                job=(queue, job.id),
            )
        except NameInUse:
            await self.files.delete(key)
            await self.queue.fail_import(
                job.id, Reason("name_taken_meanwhile", {"name": job.model_name})
            )
            return None
        except BaseException:
            await self.files.delete(key)
            raise
        if record.path != key:  # another process imported it meanwhile: its files stay
            log.info("job %d: imported meanwhile by another bot process", job.id)
            await self.files.delete(key)
        return record

    def _write(self, queue: str, job: Job, files: dict[str, bytes]) -> tuple[Path, dict]:
        """Check the fetched bytes (checksums, shapes; no pickles; decoded once, here), then
        write them into a staging folder (``.staging-<final name>``); returns it and the
        model's card."""
        card = decode_artifact(files, job.model_name).card
        guild_dir = self.model_root / str(job.guild_id)
        guild_dir.mkdir(parents=True, exist_ok=True)
        staging = guild_dir / f"{STAGING}{job.model_name}-j{job.id}-{secrets.token_hex(4)}"
        staging.mkdir()
        try:
            for name in MODEL_FILES:
                (staging / name).write_bytes(files[name])
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if PLOT_FILE in files:
            plot = plot_path(self.data_dir, queue, job.id)
            plot.parent.mkdir(parents=True, exist_ok=True)
            plot.write_bytes(files[PLOT_FILE])
        return staging, card


async def sweep_orphans(
    registry: ModelRegistry, model_root: Path, holds: Callable[[int], bool] = lambda _: True
) -> None:
    """Remove model directories (and stored files: :meth:`ModelFiles.sweep_orphans`) of
    imported jobs that never got their row (the bot stopped between the two). Run at start,
    before anything imports; only in the servers ``holds`` says this process serves (another
    process may be importing into the others). With models stored as blobs the data folder's
    model directories are not this state's (a bot moved from its SQLite file keeps them, to
    go back to): they are left."""
    rows = await registry.all_rows()
    await registry.files.sweep_orphans({r.path for r in rows}, holds)
    if not isinstance(registry.files, LocalModelFiles) or not model_root.is_dir():
        return
    known = {Path(r.path).resolve() for r in rows}
    for guild_dir in model_root.iterdir():
        if not (guild_dir.is_dir() and guild_dir.name.isdigit() and holds(int(guild_dir.name))):
            continue
        for entry in guild_dir.iterdir():
            if DIR_RE.match(entry.name) and entry.is_dir() and entry.resolve() not in known:
                log.info("removing %s: a model directory no model row refers to", entry)
                remove_folder(entry)

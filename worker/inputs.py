"""A job's inputs, fetched from the queue into the job's scratch directory and checked.

Trust nothing that crosses the wire: names are validated, every blob's size and checksum were
checked by :mod:`jobs.blobs`, models are loaded with their own checksums and shapes checked,
numpy files are read without pickles, a checkpoint must be complete and readable or it is
ignored (training starts over rather than from a damaged state).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from jobs.blobs import BlobError, expect_names
from jobs.errors import DownloadStopped
from jobs.queue import JobQueue
from jobs.reasons import Reason, bad_text
from jobs.records import BASE, CHECKPOINT, CORPUS, CORPUS_FILE, Job
from model_store import (
    ArtifactError,
    CorpusError,
    InvalidNameError,
    ModelArtifact,
    ModelStore,
    check_name,
    load_artifact,
)
from model_store.artifact import CARD_FILE, CHARSET_FILE, WEIGHTS_FILE
from model_store.corpus import decode_corpus
from model_store.store import BUILTIN_DIR
from model_store.train import (
    CHECKPOINT_BEST,
    CHECKPOINT_MODEL,
    CHECKPOINT_STATE,
    TrainingCancelled,
)

from .training import JobFailure

log = logging.getLogger(__name__)

MODEL_FILES = {WEIGHTS_FILE, CHARSET_FILE, CARD_FILE}
CHECKPOINT_FILES = {CHECKPOINT_MODEL, CHECKPOINT_BEST, CHECKPOINT_STATE}


@dataclass(frozen=True)
class Inputs:
    text: str
    base: ModelArtifact | None
    checkpoint_dir: Path  # holds the last stored checkpoint, or nothing (start from epoch 1)


async def fetch_inputs(
    queue: JobQueue, job: Job, workdir: Path, stop: Callable[[], bool] = lambda: False
) -> Inputs:
    """The job's inputs, downloaded piece by piece into ``workdir``; ``stop()`` (e.g. the job
    was cancelled) is asked between pieces and raises :class:`TrainingCancelled`."""
    try:
        check_name(job.model_name)
        if job.base_model is not None:
            check_name(job.base_model)
    except InvalidNameError:
        raise JobFailure(Reason("invalid_name")) from None
    try:
        text = await _corpus(queue, job, workdir / "upload", stop)
        base = await _base(queue, job, workdir / "base", stop)
        checkpoint_dir = workdir / "checkpoint"
        shutil.rmtree(checkpoint_dir, ignore_errors=True)
        if job.checkpoint_epoch > 0:
            await _restore_checkpoint(queue, job, checkpoint_dir, stop)
    except DownloadStopped:
        raise TrainingCancelled(f"job {job.id} stopped while fetching its inputs") from None
    if stop():
        raise TrainingCancelled(f"job {job.id} stopped after fetching its inputs")
    return Inputs(text, base, checkpoint_dir)


async def _corpus(queue: JobQueue, job: Job, directory: Path, stop: Callable[[], bool]) -> str:
    """The upload, decoded. Its length is the bot's to judge (LSTM_BOT_MIN_CORPUS_CHARS, checked
    before the job was queued); training refuses a text too short to split and train on."""
    shutil.rmtree(directory, ignore_errors=True)
    try:
        path = (await queue.download(job.id, CORPUS, directory, stop=stop)).get(CORPUS_FILE)
    except BlobError:
        raise JobFailure(Reason("upload_damaged")) from None
    if path is None:
        raise JobFailure(Reason("upload_gone"))
    try:  # in a thread, so the heartbeat goes on (and sees a cancel); stop() between slices
        return await asyncio.to_thread(_decode, path, stop)
    except CorpusError as exc:
        raise JobFailure(bad_text(exc)) from None
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _decode(path: Path, stop: Callable[[], bool]) -> str:
    return decode_corpus(path.read_bytes(), what="the uploaded text", min_chars=2, stop=stop)


async def _base(
    queue: JobQueue, job: Job, directory: Path, stop: Callable[[], bool]
) -> ModelArtifact | None:
    name = job.base_model
    if name is None:
        return None
    if job.base_checksum is not None:  # a built-in model, sent by name
        builtin = ModelStore(BUILTIN_DIR, read_only=True)
        if not builtin.exists(name):
            raise JobFailure(Reason("base_missing", {"name": name}))
        artifact = _load(builtin.path(name), name)
        if artifact.card.get("checksums", {}).get(WEIGHTS_FILE) != job.base_checksum:
            raise JobFailure(Reason("base_outdated", {"name": name}))
        return artifact
    shutil.rmtree(directory, ignore_errors=True)
    try:
        files = await queue.download(job.id, BASE, directory, stop=stop)
        expect_names("base model", files, MODEL_FILES, MODEL_FILES)
    except BlobError:
        raise JobFailure(Reason("base_damaged", {"name": name})) from None
    return _load(directory, name)


def _load(directory: Path, name: str) -> ModelArtifact:
    try:
        return load_artifact(directory, name)
    except ArtifactError as exc:
        log.error("base model '%s' can't be loaded: %s", name, exc)
        raise JobFailure(Reason("base_unloadable", {"name": name})) from None


async def _restore_checkpoint(
    queue: JobQueue, job: Job, directory: Path, stop: Callable[[], bool]
) -> None:
    """Write the stored checkpoint into ``directory`` if it is complete and sound."""
    try:
        files = await queue.download(job.id, CHECKPOINT, directory, stop=stop)
        expect_names("checkpoint", files, CHECKPOINT_FILES, CHECKPOINT_FILES)
        check_checkpoint(directory)
    except (BlobError, ValueError, OSError, zipfile.BadZipFile) as exc:
        log.warning("job %d: the stored checkpoint is unusable (%s); starting over", job.id, exc)
        shutil.rmtree(directory, ignore_errors=True)


def check_checkpoint(directory: Path) -> None:
    """Raise ValueError unless the three checkpoint files are readable and pickle-free."""
    state = json.loads((directory / CHECKPOINT_STATE).read_text(encoding="utf-8"))
    needed = {"epoch", "history", "best_loss", "stale", "learning_rate", "seconds"}
    if not isinstance(state, dict) or not needed <= set(state):
        raise ValueError("state.json is incomplete")
    if not isinstance(state["epoch"], int) or state["epoch"] < 1:
        raise ValueError("state.json has no epoch")
    with np.load(directory / CHECKPOINT_BEST, allow_pickle=False) as npz:
        for key in npz.files:
            npz[key]  # noqa: B018 - reading each array refuses object (pickled) arrays
    with zipfile.ZipFile(directory / CHECKPOINT_MODEL) as archive:
        if archive.testzip() is not None:
            raise ValueError("checkpoint.keras is corrupted")


def snapshot_checkpoint(directory: Path, outbox: Path) -> tuple[int, dict[str, Path]] | None:
    """The checkpoint files as training last wrote them, with the epoch they end (``None``
    before the first), as hard links in ``outbox/<epoch>``: training replaces its files with
    new ones and never writes into them, so the links keep this epoch's bytes until they are
    streamed into the queue (memory holds none of them; a copy where links can't be made).
    Training does not write one after every epoch when saving would cost more than a small
    share of the time; the epoch says which one this is."""
    try:
        state = json.loads((directory / CHECKPOINT_STATE).read_text(encoding="utf-8"))
        epoch = int(state["epoch"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None
    target = outbox / str(epoch)
    if not target.is_dir():  # else taken already: the same epoch's files
        staging = outbox / f"{epoch}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name in CHECKPOINT_FILES:
            try:
                os.link(directory / name, staging / name)
            except FileNotFoundError:
                return None
            except OSError:
                shutil.copyfile(directory / name, staging / name)
        staging.rename(target)
    return epoch, {name: target / name for name in CHECKPOINT_FILES}


def discard_snapshots(outbox: Path, upto: int) -> None:
    """Remove the snapshots of epochs up to ``upto`` (stored, or superseded by it)."""
    for entry in outbox.glob("*") if outbox.is_dir() else ():
        number = entry.name.removesuffix(".tmp")
        if number.isdigit() and int(number) <= upto:
            shutil.rmtree(entry, ignore_errors=True)

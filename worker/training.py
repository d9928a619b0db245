"""One job's training, run in a thread: read the corpus, load the base, size the run to the
text and the device, call ``train``.

Problems the user can act on become :class:`JobFailure` with a message for them; those that
will fail the same way again (bad text, a diverging run) are not retried.
"""

from __future__ import annotations

import logging
from pathlib import Path

from bot.jobs import Job
from model_store import (
    ArtifactError,
    CorpusError,
    ModelArtifact,
    TrainingDiverged,
    load_artifact,
)
from model_store.backend import training_device
from model_store.corpus import decode_corpus
from model_store.network import keras
from model_store.train import TrainResult, train

from .control import JobControl
from .params import TrainingPlan

log = logging.getLogger(__name__)

DIVERGED = (
    "training became unstable (the loss stopped being a number) and was stopped; "
    "it would fail the same way again: try a different or longer text"
)


class JobFailure(Exception):
    """Training cannot go on; ``reason`` is shown to the user."""

    def __init__(self, reason: str, *, retryable: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


def read_job_corpus(path: str, min_chars: int) -> str:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise JobFailure("the uploaded text is gone (it was removed before training)") from None
    except OSError as exc:
        raise JobFailure(
            f"the uploaded text could not be read ({exc.strerror})", retryable=True
        ) from None
    try:
        return decode_corpus(data, what="the uploaded text", min_chars=min_chars)
    except CorpusError as exc:
        raise JobFailure(str(exc)) from None
    except TrainingDiverged:
        raise JobFailure(DIVERGED) from None
    finally:
        keras.backend.clear_session()  # free this job's graphs before the next one


def load_base(name: str, path: str) -> ModelArtifact:
    if not Path(path).is_dir():
        raise JobFailure(f"the base model '{name}' no longer exists")
    try:
        return load_artifact(Path(path), name)
    except ArtifactError as exc:
        raise JobFailure(f"the base model could not be loaded: {exc}") from None


def train_job(
    job: Job,
    plan: TrainingPlan,
    base_path: str | None,
    control: JobControl,
    checkpoint_dir: Path,
    min_chars: int,
) -> TrainResult:
    text = read_job_corpus(job.corpus_path, min_chars)
    base = load_base(job.base_model, base_path) if job.base_model and base_path else None
    device = training_device()
    config = plan.sized(len(text), device)
    log.info(
        "job %d: training '%s' on %d characters%s on %s: %s effort, %d epochs of %s steps, "
        "batch %d x %d",
        job.id,
        job.model_name,
        len(text),
        f", fine-tuning '{job.base_model}'" if base else "",
        device.description,
        plan.effort,
        config.epochs,
        config.steps_per_epoch or "a pass's",
        config.batch_size,
        config.seq_len,
    )
    try:
        return train(
            text,
            job.model_name,
            network=plan.network,
            config=config,
            base=base,
            callback=control,
            checkpoint_dir=checkpoint_dir,
            corpus_name=plan.corpus_name or Path(job.corpus_path).name,
        )
    except CorpusError as exc:
        raise JobFailure(str(exc)) from None
    except TrainingDiverged:
        raise JobFailure(DIVERGED) from None
    finally:
        keras.backend.clear_session()  # free this job's graphs before the next one

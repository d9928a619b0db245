"""One job's training, run in a thread: call ``train`` on the fetched inputs.

Problems the user can act on become :class:`JobFailure` with a message for them.
"""

from __future__ import annotations

import logging
from pathlib import Path

from jobs.records import Job
from model_store import CorpusError, ModelArtifact
from model_store.network import keras
from model_store.train import TrainResult, train

from .control import JobControl
from .params import TrainingPlan

log = logging.getLogger(__name__)


class JobFailure(Exception):
    """Training cannot go on; ``reason`` is shown to the user (a plain sentence, never an
    exception's text). ``retryable``: worth another attempt (a passing problem)."""

    def __init__(self, reason: str, *, retryable: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


def train_job(
    job: Job,
    plan: TrainingPlan,
    text: str,
    base: ModelArtifact | None,
    control: JobControl,
    checkpoint_dir: Path,
) -> TrainResult:
    log.info(
        "job %d: training '%s' on %d characters%s",
        job.id,
        job.model_name,
        len(text),
        f", fine-tuning '{job.base_model}'" if base else "",
    )
    try:
        return train(
            text,
            job.model_name,
            network=plan.network,
            config=plan.train,
            base=base,
            callback=control,
            checkpoint_dir=checkpoint_dir,
            corpus_name=plan.corpus_name or "upload.txt",
        )
    except CorpusError as exc:
        raise JobFailure(str(exc)) from None
    finally:
        keras.backend.clear_session()  # free this job's graphs before the next one

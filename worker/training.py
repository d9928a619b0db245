"""One job's training, run in a thread: size the run to the text and the device, call
``train`` on the fetched inputs (:mod:`worker.inputs`).

Problems the user can act on become :class:`JobFailure` with a reason for them
(:mod:`jobs.reasons`); those that will fail the same way again (bad text, a diverging run) are
not retried.
"""

from __future__ import annotations

import logging
from pathlib import Path

from jobs.reasons import Reason, bad_text
from jobs.records import Job
from model_store import CorpusError, ModelArtifact, TrainingDiverged
from model_store.backend import training_device
from model_store.network import keras
from model_store.train import TrainResult, train

from .control import JobControl
from .params import TrainingPlan

log = logging.getLogger(__name__)


class JobFailure(Exception):
    """Training cannot go on; ``reason`` is shown to the user (in their language by its
    code; never an exception's text). ``retryable``: worth another attempt (a passing
    problem)."""

    def __init__(self, reason: Reason, *, retryable: bool = False):
        super().__init__(reason.english())
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
    device = training_device()
    recipe = plan.recipe(len(text), device)
    config = recipe.train
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
            network=recipe.network,
            config=config,
            base=base,
            callback=control,
            checkpoint_dir=checkpoint_dir,
            corpus_name=plan.corpus_name or "upload.txt",
        )
    except CorpusError as exc:
        raise JobFailure(bad_text(exc)) from None
    except TrainingDiverged:
        raise JobFailure(Reason("diverged")) from None
    finally:
        keras.backend.clear_session()  # free this job's graphs before the next one

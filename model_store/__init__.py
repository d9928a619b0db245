"""lstm-bot's model core: charset, network, training, evaluation, sampling, artifacts.

Nothing here knows about Discord. Importing this package (and everything but ``network`` and
``train``) needs only numpy: serving never imports TensorFlow.

Generation multiplies small matrices one character at a time, where a multi-threaded BLAS
only adds overhead (and collapses when the cores are busy: 30x slower measured on 2 busy
cores). So unless the environment says otherwise, numpy's OpenBLAS runs single-threaded;
concurrency comes from batching requests instead.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from .artifact import ModelArtifact, load_artifact
from .charset import Charset
from .config import NetworkConfig, TrainConfig
from .errors import (
    ArtifactError,
    CorpusError,
    InvalidNameError,
    ModelNotFoundError,
    ModelStoreError,
    SeedError,
    TrainingDiverged,
)
from .evaluate import EvalResult, evaluate_text
from .sampling import BatchSampler, Generator, SampleOptions
from .store import DEFAULT_MODEL, ModelCatalog, ModelStore, check_name

__all__ = [
    "ArtifactError",
    "BatchSampler",
    "Charset",
    "CorpusError",
    "DEFAULT_MODEL",
    "EvalResult",
    "Generator",
    "InvalidNameError",
    "ModelArtifact",
    "ModelCatalog",
    "ModelNotFoundError",
    "ModelStore",
    "ModelStoreError",
    "NetworkConfig",
    "SampleOptions",
    "SeedError",
    "TrainConfig",
    "TrainingDiverged",
    "check_name",
    "evaluate_text",
    "load_artifact",
]

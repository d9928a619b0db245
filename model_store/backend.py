"""Which Keras backend trains, on which device, and what that device makes worthwhile.

:func:`configure` runs before the first ``import keras``. The backend is chosen in this order,
so the same command does the right thing on a CPU box and on a GPU box:

1. ``KERAS_BACKEND`` when it is set (``tensorflow``, ``jax`` or ``torch``: the network and the
   training code use only the Keras API);
2. ``jax`` when JAX's CUDA plugin is installed (``pip install -e '.[gpu]'``);
3. ``tensorflow`` when TensorFlow is installed (``pip install -e '.[train]'``, CPU);
4. ``jax`` when only JAX is installed.

TensorFlow settings, measured on a 2-core CPU: oneDNN made LSTM training 1.4-1.7x faster and
one intra-op thread beat two.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from dataclasses import dataclass
from importlib import metadata
from importlib.util import find_spec

from .errors import ModelStoreError

JAX_CUDA_PLUGINS = ("jax-cuda13-plugin", "jax-cuda12-plugin")
NO_TRAINING = (
    "training needs Keras and a backend, which are not installed here: "
    "pip install -e '.[train]' (CPU) or pip install -e '.[gpu]' (NVIDIA GPU)"
)


def _installed(distribution: str) -> bool:
    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


def choose_backend() -> str:
    """The Keras backend to use (see the module docstring for the order)."""
    chosen = os.environ.get("KERAS_BACKEND", "").strip()
    if chosen:
        return chosen
    if any(_installed(name) for name in JAX_CUDA_PLUGINS):
        return "jax"
    if _installed("tensorflow") or _installed("tensorflow-cpu"):
        return "tensorflow"
    if _installed("jax"):
        return "jax"
    return "tensorflow"  # not installed: importing keras says so


def training_installed() -> bool:
    """Whether Keras and a backend for it are installed (the train or the gpu extra)."""
    return find_spec("keras") is not None and any(
        find_spec(name) is not None for name in ("tensorflow", "jax", "torch")
    )


def require_training() -> None:
    """Raise :class:`ModelStoreError` saying what to install when training can't run here."""
    if not training_installed():
        raise ModelStoreError(NO_TRAINING)


def configure(threads: int | None = None) -> None:
    os.environ["KERAS_BACKEND"] = choose_backend()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    if threads:
        os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(threads))
        os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")


def gpu_name() -> str | None:
    """The name of the GPU the backend trains on, or None on a CPU. Imports the backend."""
    configure()
    import keras

    backend = keras.backend.backend()
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_logical_devices("GPU")
            return gpus[0].name if gpus else None
        if backend == "jax":
            import jax

            devices = [d for d in jax.devices() if d.platform == "gpu"]
            return devices[0].device_kind if devices else None
        if backend == "torch":
            import torch

            return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except Exception:  # noqa: BLE001 - a device probe must never stop training
        return None
    return None


def describe_device() -> str:
    """'GPU (<name>)' when the backend sees one, else 'CPU'. Imports the backend."""
    name = gpu_name()
    return f"GPU ({name})" if name else "CPU"


@dataclass(frozen=True)
class Device:
    """What a training device makes worthwhile (used to size runs; see ``worker.params``)."""

    description: str  # "CPU" or "GPU (<name>)"
    gpu: bool
    batch_size: int  # sequences a step; a step is batch_size x seq_len characters
    min_epoch_steps: int  # so the after-epoch check, sample and checkpoint stay a small share
    eval_chars: int  # the per-epoch held-out check reads at most this many characters


# CPU: the built-in model's recipe. GPU: a GPU runs a step of 8x the characters in about the
# time of a small one, and needs epochs of 100+ steps to keep the after-epoch work under 10%.
CPU = Device("CPU", gpu=False, batch_size=32, min_epoch_steps=10, eval_chars=40_000)
GPU = Device("GPU", gpu=True, batch_size=256, min_epoch_steps=100, eval_chars=128_000)


@functools.cache
def training_device() -> Device:
    """The device this process trains on, probed once. Imports the backend."""
    name = gpu_name()
    if name is None:
        return CPU
    return dataclasses.replace(GPU, description=f"GPU ({name})")

"""Which Keras backend trains, and the one default network size (issues 7 and 9)."""

from __future__ import annotations

import dataclasses

import pytest

from model_store import ModelStore, NetworkConfig
from model_store import backend as backend_module
from model_store.store import BUILTIN_DIR, DEFAULT_MODEL


def test_backend_choice_is_predictable(monkeypatch: pytest.MonkeyPatch) -> None:
    installed: set[str] = set()
    monkeypatch.setattr(backend_module, "_installed", lambda name: name in installed)
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    choose = backend_module.choose_backend
    assert choose() == "tensorflow"  # nothing installed: importing keras will say what's missing
    installed.add("jax")
    assert choose() == "jax"  # only JAX
    installed.add("tensorflow-cpu")
    assert choose() == "tensorflow"  # the train extra: TensorFlow on the CPU
    installed.add("jax-cuda13-plugin")
    assert choose() == "jax"  # the gpu extra: JAX with CUDA
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    assert choose() == "torch"  # the environment decides when it says


def test_one_default_network_size() -> None:
    from cli.main import build_parser, train_recipe
    from model_store.backend import CPU
    from worker.params import make_params, parse_params

    default = NetworkConfig(vocab_size=0)
    assert (default.layers, default.units, default.embedding_dim) == (2, 192, 64)
    assert default.dropout == 0.15
    # The built-in model has that size ...
    builtin = ModelStore(BUILTIN_DIR, read_only=True).load(DEFAULT_MODEL).config
    assert dataclasses.replace(builtin, vocab_size=0) == default
    # ... `lstm-bot train` without size options builds it ...
    args = build_parser().parse_args(["train", "c.txt", "--name", "x"])
    assert train_recipe(args, 100_000, CPU).network == default
    # ... and so does /train from_scratch:true.
    assert parse_params(make_params("normal")).recipe(100_000, CPU).network == default

"""Shared fixtures: tiny corpora made here (never ../shared) and a tiny trained model."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from .textgen import make_text

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")


@pytest.fixture(scope="session")
def tiny_text() -> str:
    return make_text()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory, tiny_text: str):
    """A 2x32 model trained for a few epochs on the tiny grammar (about 5 s)."""
    from model_store import NetworkConfig, TrainConfig
    from model_store.train import train

    result = train(
        tiny_text,
        "tiny",
        network=NetworkConfig(vocab_size=0, embedding_dim=16, units=32, layers=2, dropout=0.0),
        config=TrainConfig(seq_len=32, batch_size=8, epochs=8, learning_rate=1e-2, seed=7),
    )
    return result


@pytest.fixture()
def corpus_file(tmp_path: Path, tiny_text: str) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text(tiny_text, encoding="utf-8")
    return path


HOLD = "The hold "  # a seed whose requests wait at their engine's next step (see ``gate``)


@pytest.fixture
def gate(monkeypatch) -> threading.Event:
    """Generation engines stepping a batch with a HOLD request block until the gate is set:
    a way to keep requests in flight, deterministically, while a test does something."""
    from model_store.sampling import BatchSampler

    opened = threading.Event()
    step = BatchSampler.step

    def gated_step(self):
        if any(r.seed == HOLD for r in self.rows):
            assert opened.wait(30), "the test never opened the gate"
        return step(self)

    monkeypatch.setattr(BatchSampler, "step", gated_step)
    yield opened
    opened.set()

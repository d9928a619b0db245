"""Shared fixtures: tiny corpora made here (never ../shared), a tiny trained model, and
PostgreSQL databases on the test run's throwaway server."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import pg_server
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


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """The throwaway PostgreSQL server of this test run (``make test`` starts it; running
    pytest alone, this starts one). Never skipped: if it can't start, the tests fail."""
    url = os.environ.get(pg_server.ENV)
    if url:
        yield url
        return
    server = pg_server.PgServer()
    try:
        url = server.start()
    except Exception as exc:  # noqa: BLE001
        server.stop()
        pytest.fail(f"PostgreSQL could not start for the tests ({exc}); see tests/pg_server.py")
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server_url: str) -> str:
    """A database with the current schema, copied for each test that needs one."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from jobs.postgres import migrate

    name = f"lstm_template_{uuid.uuid4().hex[:8]}"
    _admin(pg_server_url, f"CREATE DATABASE {name}")
    url = with_database(pg_server_url, name)
    with ThreadPoolExecutor(1) as pool:  # maybe inside a test's running event loop
        pool.submit(lambda: asyncio.run(migrate(url))).result()
    return name


@pytest.fixture
def pg_url(pg_server_url: str, pg_template: str) -> Iterator[str]:
    """A fresh, migrated database of the test server, dropped afterwards."""
    name = f"lstm_test_{uuid.uuid4().hex[:12]}"
    _admin(pg_server_url, f"CREATE DATABASE {name} TEMPLATE {pg_template}")
    try:
        yield with_database(pg_server_url, name)
    finally:
        _admin(pg_server_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


def _admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


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

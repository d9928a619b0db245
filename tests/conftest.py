"""Shared fixtures: tiny corpora made here (never ../shared), the checked-in tiny model (and one
trained afresh for the tests of training), PostgreSQL databases on the test run's throwaway
server; and the ``slow`` mark.

A test is ``slow`` when it trains, starts a worker process or needs PostgreSQL;
``make test-fast`` runs the others (``pytest -m "not slow"``). The mark is given here from the
fixtures a test uses (:data:`SLOW_FIXTURES`) and its parameters (an engine parameter
``"postgres"``); a test that trains or starts a worker in another way carries
``@pytest.mark.slow`` itself. A test without the mark that imports Keras or starts a worker or
training process fails, saying so: the fast subset stays fast.

The suite runs in parallel (pytest-xdist, ``make test``): every test keeps to its own
``tmp_path``, free ports and databases of its own; with ``-n N`` the slow tests are handed out
first, and the in-process Keras tests share one worker (:data:`KERAS_MODULES`)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from model_store import ModelArtifact, load_artifact

from . import pg_server
from .make_tiny_model import DIRECTORY as TINY_MODEL
from .textgen import make_text

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")


# Fixtures that train, start worker processes or use PostgreSQL (their users are slow).
SLOW_FIXTURES = frozenset(
    {
        "trained_model",
        "pg_server_url",
        "pg_template",
        "pg_url",
        "empty_pg",
        "pg_state_url",
        "own_pg",  # a PostgreSQL server of the test's own (tests/jobs/test_pg_fleet.py)
        "worker",
        "machines",
    }
)
# Modules whose every test trains or starts workers: all slow, and test-fast does not even
# import them (test_train.py imports Keras, about 6 s).
SLOW_MODULES = frozenset({"test_train.py", "test_cli.py", "test_worker_process.py"})
# Modules whose slow tests import Keras in the test process (about 6 s each time): with
# ``-n N --dist loadgroup`` (``make test``) they share one pytest-xdist worker, which imports it
# once (and trains ``trained_model`` once).
KERAS_MODULES = frozenset(
    {"test_train.py", "test_worker_unit.py", "test_parity_artifact.py", "test_recipe.py"}
)
KERAS_GROUP = "keras"
# Command-line words that start a worker or a training run (``-m worker``, ``lstm-bot train``).
SLOW_COMMANDS = frozenset({"worker", "train"})


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: trains, starts a worker process or uses PostgreSQL (not in test-fast)"
    )
    config.addinivalue_line("markers", "xdist_group(name): run in one pytest-xdist worker")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path.name in SLOW_MODULES and config.getoption("markexpr") == "not slow":
        return True
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params.values() if callspec else ()
        postgres = any(isinstance(v, str) and v == "postgres" for v in params)
        fixtures = set(getattr(item, "fixturenames", ()))
        if postgres or SLOW_FIXTURES & fixtures or item.path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
        if item.path.name in KERAS_MODULES and item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.xdist_group(KERAS_GROUP))
    if _parallel(config):  # the long tests first, so that none is left running alone at the end
        items.sort(key=lambda item: not item.get_closest_marker("slow"))


def _parallel(config: pytest.Config) -> bool:
    """Whether pytest-xdist spreads this run over several processes (``-n N``)."""
    return bool(getattr(config.option, "numprocesses", None))


@pytest.fixture(autouse=True)
def _fast_tests_stay_fast(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """A test not marked slow may not start a worker or training process, nor import Keras."""
    if request.node.get_closest_marker("slow"):
        yield
        return
    popen = subprocess.Popen

    class Guarded(popen):  # type: ignore[misc,valid-type]
        def __init__(self, args, *more, **kw):
            words = [args] if isinstance(args, str | bytes | os.PathLike) else list(args)
            if SLOW_COMMANDS & {str(w) for w in words}:
                raise AssertionError(f"a test not marked slow starts {words[:4]}: mark it slow")
            super().__init__(args, *more, **kw)

    monkeypatch.setattr(subprocess, "Popen", Guarded)
    had_keras = "keras" in sys.modules
    yield
    if not had_keras and "keras" in sys.modules:
        pytest.fail("a test not marked slow imported Keras: mark it slow, or serve without it")


@pytest.fixture(autouse=True)
def _feature_modules_stay() -> Iterator[None]:
    """A closing bot unloads its extensions, and discord.py then drops their modules from
    ``sys.modules``: the next bot would load fresh copies, and a test's patch of a feature
    module (``monkeypatch.setattr(writer, ...)``) would miss it. Put them back."""
    kept = {n: m for n, m in sys.modules.items() if n == "cogs" or n.startswith("cogs.")}
    yield
    sys.modules.update(kept)


@pytest.fixture(autouse=True)
def _no_settings_from_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts without the caller's ``LSTM_BOT_*`` settings and Discord token (they
    could point a test's subprocess at a real data directory or queue); the test server's URL
    (``LSTM_BOT_TEST_PG_URL``) is kept."""
    for name in list(os.environ):
        if (name.startswith("LSTM_BOT_") and name != pg_server.ENV) or name == "DISCORD_TOKEN":
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def tiny_text() -> str:
    return make_text()


@dataclass(frozen=True)
class TinyModel:
    """A tiny model and its training history (as the card keeps it)."""

    artifact: ModelArtifact
    history: list[dict[str, float]]


@pytest.fixture(scope="session")
def tiny_model() -> TinyModel:
    """The checked-in 2x32 model (``tests/data/tiny_model``, written by
    ``python -m tests.make_tiny_model``): loading it needs numpy only, never Keras."""
    artifact = load_artifact(TINY_MODEL, "tiny")
    return TinyModel(artifact, artifact.card.get("history", []))


@pytest.fixture(scope="session")
def trained_model() -> TinyModel:
    """The same tiny model trained afresh, for the tests of training itself (about 5 s)."""
    from .make_tiny_model import train_tiny

    result = train_tiny()
    return TinyModel(result.artifact, result.history)


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


@pytest.fixture(params=["sqlite", "postgres"])
def state_url(request: pytest.FixtureRequest) -> str | None:
    """Where the bot's state lives: ``None`` (the SQLite file, as today) or a database of the
    test server with the bot's schema (``lstm-bot db migrate`` with LSTM_BOT_DATABASE_URL)."""
    return None if request.param == "sqlite" else request.getfixturevalue("pg_state_url")


@pytest.fixture
def pg_state_url(pg_url: str) -> str:
    """A fresh database of the test server with the queue's and the bot's state schema."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from bot.pg_migrate import migrate_state

    with ThreadPoolExecutor(1) as pool:  # maybe inside a test's running event loop
        pool.submit(lambda: asyncio.run(migrate_state(pg_url))).result()
    return pg_url

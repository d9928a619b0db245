"""The test suite's own rules (tests/conftest.py): no test sees the caller's settings; a test
not marked slow can't start a worker or a training run, and the slow ones are marked from what
they use."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .pg_server import ENV


def test_no_setting_of_the_caller_reaches_a_test() -> None:
    """LSTM_BOT_* (a real data directory, a queue URL) and the token are cleared for each test,
    so the commands tests run in subprocesses never see them."""
    assert [k for k in os.environ if k.startswith("LSTM_BOT_") and k != ENV] == []
    assert "DISCORD_TOKEN" not in os.environ


@pytest.mark.parametrize("command", [["-m", "worker", "--once"], ["-m", "cli", "train", "x"]])
def test_a_fast_test_cannot_start_a_worker_or_training(command: list[str]) -> None:
    with pytest.raises(AssertionError, match="mark it slow"):
        subprocess.Popen([sys.executable, *command])


def test_other_processes_may_start() -> None:
    done = subprocess.run([sys.executable, "-c", "print('ok')"], capture_output=True, text=True)
    assert done.stdout == "ok\n"


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_a_postgres_parameter_makes_a_test_slow(request: pytest.FixtureRequest, engine: str):
    assert bool(request.node.get_closest_marker("slow")) == (engine == "postgres")


def test_a_slow_fixture_makes_a_test_slow(request: pytest.FixtureRequest, pg_server_url) -> None:
    """(The cheapest slow fixture: the run's PostgreSQL server, already started.)"""
    assert request.node.get_closest_marker("slow")

"""The tests' PostgreSQL server only looks for an installed PostgreSQL (``.ci/run`` installs
it): when there is none it says so in one line, and installs nothing."""

from __future__ import annotations

import subprocess

import pytest

from . import pg_server


def test_a_missing_postgresql_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(pg_server, "find_bindir", lambda: None)
    ran: list[object] = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: ran.append(a))
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: ran.append(a))
    with pytest.raises(RuntimeError, match="PostgreSQL is not installed.*apt-get install"):
        pg_server.PgServer().start()
    assert pg_server.main(["--", "true"]) == 1
    assert pg_server.NOT_INSTALLED in capsys.readouterr().err
    assert ran == []  # no apt-get, no command run without its server

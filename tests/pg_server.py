"""A throwaway PostgreSQL server for the test run.

``python -m tests.pg_server -- COMMAND...`` (what ``make test`` runs) starts one, runs COMMAND
with ``LSTM_BOT_TEST_PG_URL`` set, and stops and deletes it afterwards, also when COMMAND
fails or is interrupted. The server is an installed PostgreSQL (Debian's ``postgresql``
package; ``.ci/run`` installs it when missing, the tests never do), initialised in a temporary
directory by an unprivileged user (``postgres`` when running as root), on a free local port,
with a random password.

Running pytest directly, the session fixture in ``tests/conftest.py`` does the same.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

ENV = "LSTM_BOT_TEST_PG_URL"


def find_bindir() -> Path | None:
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    found = shutil.which("pg_ctl")
    return Path(found).resolve().parent if found else None


NOT_INSTALLED = (
    "PostgreSQL is not installed (no pg_ctl in /usr/lib/postgresql/*/bin or on PATH): "
    "apt-get install postgresql (as root; .ci/run does it)"
)


def ensure_installed() -> Path:
    """Where PostgreSQL's programs are; a clear error when it is not installed."""
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError(NOT_INSTALLED)
    return bindir


def _unprivileged_user() -> pwd.struct_passwd:
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("no unprivileged user (postgres or nobody) to run PostgreSQL as")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self) -> None:
        self.root: Path | None = None
        self.url = ""
        self._as: list[str] = []
        self._bindir: Path | None = None
        self._port = 0

    def _run(self, *args: str, **kw) -> subprocess.CompletedProcess:
        assert self._bindir is not None
        cmd = [*self._as, str(self._bindir / args[0]), *args[1:]]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)

    def start(self) -> str:
        self._bindir = ensure_installed()
        self.root = Path(tempfile.mkdtemp(prefix="lstm-bot-pg-"))
        password = secrets.token_hex(12)
        (self.root / "pw").write_text(password)
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            user = _unprivileged_user()
            for path in (self.root, self.root / "pw"):
                os.chown(path, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", user.pw_name, "--"]
        data = self.root / "data"
        self._run(
            "initdb",
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=scram-sha-256",
            f"--pwfile={self.root / 'pw'}",
            "-E",
            "UTF8",
        )
        self._port = free_port()
        self.resume()
        self.url = f"postgresql://postgres:{password}@127.0.0.1:{self._port}/postgres"
        return self.url

    def resume(self) -> None:
        """Start the server (again, on the same port and data: a restart's second half)."""
        assert self.root is not None
        options = (
            f"-p {self._port} -k {self.root} -c listen_addresses=127.0.0.1"
            " -c max_connections=300 -c fsync=off -c synchronous_commit=off"
            " -c full_page_writes=off"
        )
        data = str(self.root / "data")
        self._run("pg_ctl", "-D", data, "-o", options, "-l", str(self.root / "log"), "-w", "start")

    def halt(self) -> None:
        """Stop the server, keeping its data (``resume`` starts it again): an outage."""
        assert self.root is not None
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")

    def stop(self) -> None:
        if self.root is None:
            return
        try:
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        except (subprocess.CalledProcessError, OSError):
            pass
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None


def main(argv: list[str]) -> int:
    if "--" in argv:
        argv = argv[argv.index("--") + 1 :]
    if not argv:
        sys.stderr.write("usage: python -m tests.pg_server -- COMMAND...\n")
        return 2
    server = PgServer()
    try:
        url = server.start()
    except (RuntimeError, subprocess.CalledProcessError, OSError) as exc:
        detail = getattr(exc, "stderr", "") or ""
        sys.stderr.write(f"error: could not start PostgreSQL for the tests: {exc}\n{detail}")
        server.stop()
        return 1
    proc = None

    def forward(signum: int, frame: object) -> None:
        if proc is not None:
            proc.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    try:
        proc = subprocess.Popen(argv, env={**os.environ, ENV: url})
        return proc.wait()
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        server.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

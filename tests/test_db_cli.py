"""``lstm-bot db migrate`` and the schema checks of bot and worker, as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.db import REGISTRY_MIGRATIONS
from jobs.engine import open_queue
from jobs.postgres import SchemaError
from jobs.sqlite import SQLITE_MIGRATIONS
from worker.process import clean_env

from .conftest import _admin, with_database

ROOT = Path(__file__).resolve().parents[1]


def lstm_bot(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    clean = clean_env()
    clean.update(PYTHONPATH=str(ROOT), LSTM_BOT_DATA_DIR=str(cwd / "data"), **env)
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def empty_pg(pg_server_url: str):
    """A database of the test server without any schema."""
    name = "lstm_empty_" + os.urandom(6).hex()
    _admin(pg_server_url, f"CREATE DATABASE {name}")
    yield with_database(pg_server_url, name)
    _admin(pg_server_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_migrate_the_embedded_queue(tmp_path: Path) -> None:
    done = lstm_bot("db", "migrate", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"registry: version {REGISTRY_MIGRATIONS.latest} in" in done.stdout
    assert f"job queue (embedded): version {SQLITE_MIGRATIONS.latest}" in done.stdout


async def test_postgres_needs_migrate_and_says_so(tmp_path: Path, empty_pg: str) -> None:
    password = empty_pg.split(":")[2].split("@")[0]
    with pytest.raises(SchemaError, match="run `lstm-bot db migrate`"):
        await open_queue(queue_url=empty_pg)
    worker = lstm_bot("worker", "--once", cwd=tmp_path, LSTM_BOT_QUEUE_URL=empty_pg)
    assert worker.returncode == 1
    assert worker.stderr.strip().splitlines()[-1] == (
        "error: the job queue's database has no schema yet: run `lstm-bot db migrate`"
    )
    done = lstm_bot("db", "migrate", cwd=tmp_path, LSTM_BOT_QUEUE_URL=empty_pg)
    assert done.returncode == 0, done.stderr
    assert "created procrastinate" in done.stdout and "applied 0001_jobs.sql" in done.stdout
    assert password not in done.stdout + done.stderr and ":***@" in done.stdout
    again = lstm_bot("db", "migrate", cwd=tmp_path, LSTM_BOT_QUEUE_URL=empty_pg)
    assert again.returncode == 0 and "up to date" in again.stdout
    post = lstm_bot("db", "migrate", "--post", cwd=tmp_path, LSTM_BOT_QUEUE_URL=empty_pg)
    assert post.returncode == 0 and "up to date" in post.stdout
    queue = await open_queue(queue_url=empty_pg)
    await queue.close()


@pytest.mark.slow  # runs a worker process
@pytest.mark.parametrize(
    "url, shown",
    [
        ("postgresql://lstm:s3cr3t-pw@127.0.0.1:1/jobs", "postgresql://lstm:***@127.0.0.1:1/jobs"),
        ("postgresql://lstm:s3#cr?3t@127.0.0.1:1/jobs", "postgresql://lstm:***@127.0.0.1:1/jobs"),
        (
            "host=127.0.0.1 port=1 password=s3cr3t dbname=jobs",
            "host=127.0.0.1 port=1 password=*** dbname=jobs",
        ),
    ],
)
def test_an_unreachable_database_is_one_masked_line(tmp_path: Path, url: str, shown: str) -> None:
    for args in (("db", "migrate"), ("worker", "--once")):
        done = lstm_bot(*args, cwd=tmp_path, LSTM_BOT_QUEUE_URL=url)
        assert done.returncode == 1, done.stderr
        last = done.stderr.strip().splitlines()[-1]
        assert last.startswith("error: can't reach the job queue's database at " + shown), (
            done.stderr
        )
        assert "s3" not in done.stdout + done.stderr


def without(*modules: str, argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """``lstm-bot ARGV`` in a process where ``modules`` can't be imported (an extra that is
    not installed), reporting which of Keras and TensorFlow it imported."""
    code = (
        "import sys\n"
        f"for name in {modules!r}: sys.modules[name] = None\n"
        "from cli.main import main\n"
        "code = main(sys.argv[1:])\n"
        "print('imported:', sorted(m for m in ('keras', 'tensorflow') if sys.modules.get(m)))\n"
        "sys.exit(code)\n"
    )
    clean = clean_env()
    clean.update(PYTHONPATH=str(ROOT), LSTM_BOT_DATA_DIR=str(cwd / "data"), **env)
    return subprocess.run(
        [sys.executable, "-c", code, *argv],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


WORKER = pytest.param(["worker", "--once"], marks=pytest.mark.slow, id="worker")  # a worker process
TRAIN = pytest.param(["train", "x.txt", "--name", "x1"], marks=pytest.mark.slow, id="train")
DB = pytest.param(["db", "migrate"], id="db")
CONSOLE = pytest.param(["console"], id="console")


POSTGRES_MISSING = (
    "error: LSTM_BOT_QUEUE_URL is set, but the postgres extra is not installed here: "
    "pip install -e '.[postgres]'"
)


@pytest.mark.parametrize("argv", [DB, WORKER, CONSOLE])
def test_a_queue_url_without_the_postgres_extra_says_what_to_install(
    tmp_path: Path, argv: list[str]
) -> None:
    url = "postgresql://lstm:s3cr3t@127.0.0.1:1/jobs"
    done = without("procrastinate", "psycopg", argv=argv, cwd=tmp_path, LSTM_BOT_QUEUE_URL=url)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == POSTGRES_MISSING, done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("argv", [WORKER, TRAIN])
def test_training_without_keras_says_what_to_install(tmp_path: Path, argv: list[str]) -> None:
    (tmp_path / "x.txt").write_text("some text to learn from. " * 200)
    done = without("keras", argv=argv, cwd=tmp_path)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: training needs Keras") and "'.[train]'" in last, done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow  # runs a worker process
def test_the_worker_says_a_queue_problem_before_loading_keras(tmp_path: Path) -> None:
    url = "postgresql://lstm:s3cr3t@127.0.0.1:1/jobs"
    done = without(argv=["worker", "--once"], cwd=tmp_path, LSTM_BOT_QUEUE_URL=url)
    assert done.returncode == 1
    assert "can't reach the job queue's database" in done.stderr
    assert "imported: []" in done.stdout, done.stdout


@pytest.mark.parametrize("argv", [DB, WORKER, CONSOLE])
def test_a_database_that_cannot_be_opened_is_one_line_naming_it(
    tmp_path: Path, argv: list[str]
) -> None:
    (tmp_path / "notes.txt").write_text("not a database, but some notes\n" * 100)
    for path, why in (("notes.txt", "file is not a database"), (".", "unable to open")):
        done = lstm_bot(*argv, cwd=tmp_path, LSTM_BOT_DATABASE=path)
        assert done.returncode == 1
        last = done.stderr.strip().splitlines()[-1]
        assert last.startswith(f"error: can't open the database {path}: {why}"), done.stderr
        assert "Traceback" not in done.stderr
    assert (tmp_path / "notes.txt").read_text().startswith("not a database")


def last_error(done: subprocess.CompletedProcess) -> str:
    """The one ``error:`` line a failed command must end with, and no traceback."""
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done.stderr.strip().splitlines()[-1]


def test_migrate_says_the_servers_reason_in_one_line(tmp_path: Path, pg_url: str) -> None:
    user, password = pg_url.split("//")[1].split("@")[0].split(":")
    wrong_password = pg_url.replace(f":{password}@", ":wrong-pw@")
    last = last_error(lstm_bot("db", "migrate", cwd=tmp_path, LSTM_BOT_QUEUE_URL=wrong_password))
    assert last.startswith("error: the job queue's database at ") and "wrong-pw" not in last
    assert f'refused the connection: password authentication failed for user "{user}"' in last
    missing = with_database(pg_url, "no_such_database")
    last = last_error(lstm_bot("db", "migrate", cwd=tmp_path, LSTM_BOT_QUEUE_URL=missing))
    assert 'refused the connection: database "no_such_database" does not exist' in last
    assert password not in last


@pytest.fixture
def powerless_pg(pg_server_url: str, empty_pg: str):
    """The empty database's URL for a role that may connect but not create anything."""
    role = "lstm_np_" + os.urandom(4).hex()
    _admin(pg_server_url, f"CREATE ROLE {role} LOGIN PASSWORD 'np-secret-pw'")
    _admin(empty_pg, f"REVOKE CREATE ON SCHEMA public FROM PUBLIC, {role}")
    host = empty_pg.split("@", 1)[1]
    yield f"postgresql://{role}:np-secret-pw@{host}"
    _admin(pg_server_url, f"DROP DATABASE IF EXISTS {host.rsplit('/', 1)[1]} WITH (FORCE)")
    _admin(pg_server_url, f"DROP ROLE IF EXISTS {role}")


def test_migrate_without_the_right_to_create_is_one_line(tmp_path: Path, powerless_pg) -> None:
    last = last_error(lstm_bot("db", "migrate", cwd=tmp_path, LSTM_BOT_QUEUE_URL=powerless_pg))
    assert last.startswith("error: can't migrate the job queue's database at ")
    assert last.endswith("permission denied for schema public"), last
    assert "np-secret-pw" not in last


def test_procrastinates_schema_made_elsewhere_is_one_line(tmp_path: Path, empty_pg: str) -> None:
    from procrastinate.schema import SchemaManager

    _admin(empty_pg, SchemaManager.get_schema())
    last = last_error(lstm_bot("db", "migrate", cwd=tmp_path, LSTM_BOT_QUEUE_URL=empty_pg))
    assert last == (
        "error: the job queue's database has procrastinate's tables but no record of their "
        "version (they were made without `lstm-bot db migrate`): use an empty database"
    )


@pytest.mark.parametrize(
    "component",
    ["registry", pytest.param("jobs", marks=pytest.mark.slow)],  # jobs: a worker
)
def test_a_sqlite_database_of_a_newer_lstm_bot_is_refused(tmp_path: Path, component: str) -> None:
    """As on PostgreSQL: a schema newer than this code is refused, saying what to do."""
    import sqlite3

    assert lstm_bot("db", "migrate", cwd=tmp_path).returncode == 0
    path = tmp_path / "data" / "lstm-bot.sqlite3"
    with sqlite3.connect(path) as conn:
        if component == "registry":
            conn.execute(f"PRAGMA user_version = {REGISTRY_MIGRATIONS.latest + 1}")
        else:
            conn.execute(
                "UPDATE schema_versions SET version = version + 1 WHERE component = 'jobs'"
            )
    # The worker opens only the job tables of the file (with the embedded queue).
    commands = [("db", "migrate")] + ([("worker", "--once")] if component == "jobs" else [])
    for args in commands:
        last = last_error(lstm_bot(*args, cwd=tmp_path))
        assert last.startswith("error: the database "), last
        assert last.endswith("was made by a newer lstm-bot: upgrade lstm-bot here"), last


def test_migrate_the_bots_state_on_postgres(tmp_path: Path, empty_pg: str) -> None:
    """State and queue on one URL: both schemas, side by side, one version table."""
    password = empty_pg.split(":")[2].split("@")[0]
    both = {"LSTM_BOT_QUEUE_URL": empty_pg, "LSTM_BOT_DATABASE_URL": empty_pg}
    done = lstm_bot("db", "migrate", cwd=tmp_path, **both)
    assert done.returncode == 0, done.stderr
    assert "bot state at postgresql://" in done.stdout and "applied 0001_state.sql" in done.stdout
    assert "registry:" not in done.stdout and not (tmp_path / "data").exists()
    assert password not in done.stdout + done.stderr
    again = lstm_bot("db", "migrate", cwd=tmp_path, **both)
    assert again.returncode == 0 and again.stdout.count("up to date") == 2, again.stdout
    import psycopg

    with psycopg.connect(empty_pg) as conn:
        rows = conn.execute("SELECT component FROM schema_versions ORDER BY 1").fetchall()
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'lstm_bot' AND tablename = 'models'"
        ).fetchone()
    assert "bot" in [r[0] for r in rows] and "jobs" in [r[0] for r in rows] and tables[0] == 1

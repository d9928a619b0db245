import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings
from jobs.config import env_name


def load_with(monkeypatch, env: dict[str, str], dotenv: Path | None = None, load=load_settings):
    """Settings loaded with ``env`` as the process environment (and ``dotenv``)."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load(dotenv)


def test_defaults_and_env_override(tmp_path, monkeypatch):
    dotenv = tmp_path / ".env"
    dotenv.write_text('# comment\nLSTM_BOT_MAX_LENGTH=300\nDISCORD_TOKEN="abc.def"\n')
    env = {"LSTM_BOT_MAX_LENGTH": "200", "LSTM_BOT_KEEP_CORPORA": "yes"}
    s = load_with(monkeypatch, env, dotenv)
    assert s.max_length == 200  # the environment wins over .env
    assert s.keep_corpora is True
    assert s.require_token() == "abc.def"
    assert s.database_path == Path("data") / "lstm-bot.sqlite3"


def test_dotenv_as_people_write_it(tmp_path, monkeypatch):
    """Comments after a value, quotes, export and empty values (the default) all work."""
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "LSTM_BOT_MAX_LENGTH=300  # a comment\n"
        "export LSTM_BOT_DEFAULT_MODEL='shakespeare'\n"
        'LSTM_BOT_DATA_DIR="my data"\n'
        "LSTM_BOT_OWNER_ID=\n"
    )
    s = load_with(monkeypatch, {}, dotenv)
    assert (s.max_length, s.default_model) == (300, "shakespeare")
    assert s.data_dir == Path("my data") and s.owner_id is None


def test_secrets_never_in_repr():
    s = Settings(discord_token="super-secret-token", queue_url="postgresql://u:pw-123@h/db")
    assert "super-secret-token" not in repr(s) and "pw-123" not in repr(s)
    assert s.require_token() == "super-secret-token"
    assert s.queue_conninfo == "postgresql://u:pw-123@h/db" and "pw-123" not in s.queue_shown


@pytest.mark.parametrize(
    "env, message",
    [
        ({"LSTM_BOT_MAX_LENGTH": "lots"}, "LSTM_BOT_MAX_LENGTH is malformed"),
        ({"LSTM_BOT_OWNER_ID": "me"}, "LSTM_BOT_OWNER_ID is malformed"),
        ({"LSTM_BOT_KEEP_CORPORA": "maybe"}, "LSTM_BOT_KEEP_CORPORA is malformed"),
        ({"LSTM_BOT_MAX_LENGTH": "0"}, "LSTM_BOT_MAX_LENGTH must be between 1 and 5000"),
        ({"LSTM_BOT_MAX_LENGTH": "6000"}, "LSTM_BOT_MAX_LENGTH must be between 1 and 5000"),
        ({"LSTM_BOT_LOG_LEVEL": "LOUD"}, "LSTM_BOT_LOG_LEVEL"),
        ({"LSTM_BOT_POLL_SECONDS": "0"}, "LSTM_BOT_POLL_SECONDS must be between 0.01 and"),
        ({"LSTM_BOT_LEASE_SECONDS": "0"}, "LSTM_BOT_LEASE_SECONDS must be between 1 and"),
        ({"LSTM_BOT_LEASE_SECONDS": "nan"}, "LSTM_BOT_LEASE_SECONDS must be a finite number"),
        ({"LSTM_BOT_POLL_SECONDS": "inf"}, "LSTM_BOT_POLL_SECONDS must be a finite number"),
        ({"LSTM_BOT_GENERATE_COOLDOWN": "-1"}, "LSTM_BOT_GENERATE_COOLDOWN must be between 0"),
        ({"LSTM_BOT_MAX_ATTEMPTS": "0"}, "LSTM_BOT_MAX_ATTEMPTS must be between 1"),
        ({"LSTM_BOT_MAX_JOBS_PER_USER": "0"}, "LSTM_BOT_MAX_JOBS_PER_USER must be at least 1"),
        ({"LSTM_BOT_MAX_JOBS_PER_GUILD": "-3"}, "LSTM_BOT_MAX_JOBS_PER_GUILD must be at least 1"),
        ({"LSTM_BOT_MAX_MODELS_PER_GUILD": "0"}, "LSTM_BOT_MAX_MODELS_PER_GUILD must be at least"),
        ({"LSTM_BOT_MAX_CORPUS_BYTES_PER_GUILD": "0"}, "LSTM_BOT_MAX_CORPUS_BYTES_PER_GUILD"),
        ({"LSTM_BOT_MAX_UPLOAD_BYTES": "0"}, "LSTM_BOT_MAX_UPLOAD_BYTES must be at least 1"),
        ({"LSTM_BOT_MIN_CORPUS_CHARS": "0"}, "LSTM_BOT_MIN_CORPUS_CHARS must be at least"),
        ({"LSTM_BOT_MODEL_CACHE_SIZE": "0"}, "LSTM_BOT_MODEL_CACHE_SIZE must be at least 1"),
        ({"LSTM_BOT_OWNER_ID": "-5"}, "LSTM_BOT_OWNER_ID must be at least 1"),
        ({"LSTM_BOT_TEST_GUILD_ID": "0"}, "LSTM_BOT_TEST_GUILD_ID must be at least 1"),
        ({"LSTM_BOT_DEFAULT_MODEL": "Not A Name"}, "LSTM_BOT_DEFAULT_MODEL is not a model name"),
    ],
)
def test_malformed_settings(env, message, monkeypatch):
    with pytest.raises(SettingsError, match=message) as info:
        load_with(monkeypatch, env)
    assert "\n" not in str(info.value)


def test_missing_token():
    with pytest.raises(SettingsError, match="DISCORD_TOKEN is not set"):
        load_settings(None).require_token()


ROOT = Path(__file__).parents[1]


def settings_classes() -> tuple[type, ...]:
    from worker.settings import WorkerSettings

    return Settings, WorkerSettings


def test_env_example_documents_exactly_the_settings():
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M))
    assert documented == {env_name(c, name) for c in settings_classes() for name in c.model_fields}


def unread_settings(cls: type, code: str) -> list[str]:
    """The fields of ``cls`` that ``code`` never reads from a settings object: as
    ``settings.FIELD`` (``self.settings.FIELD``, ``bot.settings.FIELD``...) or through a
    property or method of ``cls`` that reads it. ``record.FIELD`` or ``guild_settings.FIELD``
    (another class's attribute of the same name) does not count."""
    ours = [k for k in cls.__mro__ if k.__module__.split(".")[0] in {"bot", "worker", "jobs"}]
    members = {
        name: inspect.getsource(getattr(value, "fget", value))
        for klass in ours
        for name, value in vars(klass).items()
        if isinstance(value, property) or (inspect.isfunction(value) and not name.startswith("_"))
    }
    unread = []
    for field in cls.model_fields:
        readers = {field}
        while (
            more := {m for m, src in members.items() if any(f"self.{r}" in src for r in readers)}
            - readers
        ):
            readers |= more
        if not any(re.search(rf"(?<![\w])settings\.{r}\b", code) for r in readers):
            unread.append(field)
    return unread


@pytest.mark.parametrize("cls", settings_classes(), ids=lambda c: c.__name__)
def test_every_setting_is_read_by_the_code(cls):
    """A setting documented in .env.example but read by nothing makes a false promise."""
    code = "\n".join(
        p.read_text()
        for package in ("cli", "bot", "cogs", "worker", "jobs", "model_store")
        for p in (ROOT / package).rglob("*.py")
        if p.name != "settings.py"
    )
    assert unread_settings(cls, code) == []


def test_a_same_named_attribute_of_something_else_is_not_a_read():
    from worker.settings import WorkerSettings

    names = set(WorkerSettings.model_fields)
    others = "\n".join(f"x = job.{n} + guild_settings.{n} + other_settings.{n}" for n in names)
    assert set(unread_settings(WorkerSettings, others)) == names
    reads = "\n".join(f"y = self.worker.settings.{n}" for n in names)
    assert unread_settings(WorkerSettings, reads) == []


def test_every_range_error_is_one_line_naming_the_variable(monkeypatch):
    from worker.settings import load_worker_settings

    checked = 0
    for cls, load in zip(settings_classes(), (load_settings, load_worker_settings), strict=True):
        for field, info in cls.model_fields.items():
            low = next((m.ge for m in info.metadata if hasattr(m, "ge")), None)
            if low is None:
                continue
            name, checked = env_name(cls, field), checked + 1
            with monkeypatch.context() as patch:
                with pytest.raises(SettingsError) as error:
                    load_with(patch, {name: str(low - 1)}, load=load)
            assert str(error.value).startswith(name) and "\n" not in str(error.value)
    assert checked >= 15


def test_sync_defaults_to_the_test_guild():
    from cli.main import build_parser, sync_target

    parser = build_parser()
    dev = Settings(test_guild_id=42)
    assert sync_target(parser.parse_args(["sync"]), dev) == 42
    assert sync_target(parser.parse_args(["sync", "--guild", "7"]), dev) == 7
    assert sync_target(parser.parse_args(["sync", "--global"]), dev) is None
    assert sync_target(parser.parse_args(["sync"]), Settings()) is None


def test_the_queue_password_is_never_shown(caplog, monkeypatch):
    import logging

    from jobs.masking import MaskSecrets, mask_conninfo, secrets_of
    from worker.settings import load_worker_settings

    url = "postgresql://lstm:s3cr3t-pw@db.example:5432/jobs?sslmode=require"
    assert mask_conninfo(url) == "postgresql://lstm:***@db.example:5432/jobs?sslmode=require"
    for load in (load_settings, load_worker_settings):
        settings = load_with(monkeypatch, {"LSTM_BOT_QUEUE_URL": url}, load=load)
        assert settings.queue_conninfo == url and "s3cr3t" not in repr(settings)
        with pytest.raises(SettingsError) as bad:
            load_with(
                monkeypatch, {"LSTM_BOT_QUEUE_URL": "mysql://lstm:s3cr3t-pw@db/jobs"}, load=load
            )
        assert "s3cr3t" not in str(bad.value) and "postgresql://" in str(bad.value)
    caplog.handler.addFilter(MaskSecrets(secrets_of(url)))
    try:
        raise RuntimeError(f"could not connect to {url}")
    except RuntimeError:
        logging.getLogger("test").exception("queue %s unreachable", url)
    assert "s3cr3t" not in caplog.text and "lstm:***@db.example" in caplog.text


def test_run_without_token_is_one_clear_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "LSTM_BOT_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "cli", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("error: DISCORD_TOKEN is not set")
    assert "Traceback" not in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "cli", "run"],
        cwd=tmp_path,
        env={**env, "LSTM_BOT_MAX_LENGTH": "x"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1 and "LSTM_BOT_MAX_LENGTH is malformed" in proc.stderr


def test_the_state_url_is_checked_and_never_shown(monkeypatch):
    """LSTM_BOT_DATABASE_URL: empty, the SQLite file; a PostgreSQL URL needs the queue's."""
    assert load_settings(None).state_conninfo is None
    assert load_settings(None).state_shown.startswith("the SQLite file ")
    url = "postgresql://lstm:s3cr3t-pw@db.example:5432/lstm"
    settings = load_with(monkeypatch, {"LSTM_BOT_DATABASE_URL": url, "LSTM_BOT_QUEUE_URL": url})
    assert settings.state_conninfo == url and "s3cr3t" not in repr(settings)
    assert settings.state_shown == "postgresql://lstm:***@db.example:5432/lstm"
    with pytest.raises(SettingsError, match="LSTM_BOT_DATABASE_URL must look like") as bad:
        load_with(monkeypatch, {"LSTM_BOT_DATABASE_URL": "mysql://lstm:s3cr3t-pw@db/x"})
    assert "s3cr3t" not in str(bad.value)
    monkeypatch.delenv("LSTM_BOT_QUEUE_URL")
    with pytest.raises(SettingsError, match="LSTM_BOT_DATABASE_URL needs LSTM_BOT_QUEUE_URL"):
        load_with(monkeypatch, {"LSTM_BOT_DATABASE_URL": url})

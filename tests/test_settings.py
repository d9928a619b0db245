import inspect
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings
from jobs.config import RANGES


def test_defaults_and_env_override(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text('# comment\nLSTM_BOT_MAX_LENGTH=300\nDISCORD_TOKEN="abc.def"\n')
    s = load_settings({"LSTM_BOT_MAX_LENGTH": "200", "LSTM_BOT_KEEP_CORPORA": "yes"}, dotenv)
    assert s.max_length == 200  # the environment wins over .env
    assert s.keep_corpora is True
    assert s.require_token() == "abc.def"
    assert s.database_path == Path("data") / "lstm-bot.sqlite3"


def test_token_never_in_repr():
    s = Settings(discord_token="super-secret-token")
    assert "super-secret-token" not in repr(s)


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
def test_malformed_settings(env, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(env, None)


def test_missing_token():
    with pytest.raises(SettingsError, match="DISCORD_TOKEN is not set"):
        load_settings({}, None).require_token()


ROOT = Path(__file__).parents[1]


def settings_classes() -> tuple[type, ...]:
    from worker.settings import WorkerSettings

    return Settings, WorkerSettings


def test_env_example_documents_exactly_the_settings():
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M))
    assert documented == {f.metadata["env"] for c in settings_classes() for f in fields(c)}


def unread_settings(cls: type, code: str) -> list[str]:
    """The fields of ``cls`` that ``code`` never reads from a settings object: as
    ``settings.FIELD`` (``self.settings.FIELD``, ``bot.settings.FIELD``...) or through a
    property or method of ``cls`` that reads it. ``record.FIELD`` or ``guild_settings.FIELD``
    (another class's attribute of the same name) does not count."""
    members = {
        name: inspect.getsource(getattr(value, "fget", value))
        for name, value in vars(cls).items()
        if isinstance(value, property) or (inspect.isfunction(value) and not name.startswith("_"))
    }
    unread = []
    for f in fields(cls):
        readers = {f.name}
        while (
            more := {m for m, src in members.items() if any(f"self.{r}" in src for r in readers)}
            - readers
        ):
            readers |= more
        if not any(re.search(rf"(?<![\w])settings\.{r}\b", code) for r in readers):
            unread.append(f.name)
    return unread


@pytest.mark.parametrize("cls", settings_classes(), ids=lambda c: c.__name__)
def test_every_setting_is_read_by_the_code(cls):
    """A setting documented in .env.example but read by nothing makes a false promise."""
    code = "\n".join(
        p.read_text()
        for package in ("bot", "cogs", "worker", "jobs", "model_store")
        for p in (ROOT / package).rglob("*.py")
        if p.name != "settings.py"
    )
    assert unread_settings(cls, code) == []


def test_a_same_named_attribute_of_something_else_is_not_a_read():
    from worker.settings import WorkerSettings

    names = {f.name for f in fields(WorkerSettings)}
    others = "\n".join(f"x = job.{n} + guild_settings.{n} + other_settings.{n}" for n in names)
    assert set(unread_settings(WorkerSettings, others)) == names
    reads = "\n".join(f"y = self.worker.settings.{n}" for n in names)
    assert unread_settings(WorkerSettings, reads) == []


def test_every_range_error_is_one_line_naming_the_variable():
    from worker.settings import load_worker_settings

    for cls, load in zip(settings_classes(), (load_settings, load_worker_settings), strict=True):
        for f in fields(cls):
            name = f.metadata["env"]
            if name in RANGES:
                with pytest.raises(SettingsError) as info:
                    load({name: str(RANGES[name][0] - 1)}, None)
                assert str(info.value).startswith(name) and "\n" not in str(info.value)


def test_sync_defaults_to_the_test_guild():
    from bot.cli import build_parser, sync_target

    parser = build_parser()
    dev = Settings(test_guild_id=42)
    assert sync_target(parser.parse_args(["sync"]), dev) == 42
    assert sync_target(parser.parse_args(["sync", "--guild", "7"]), dev) == 7
    assert sync_target(parser.parse_args(["sync", "--global"]), dev) is None
    assert sync_target(parser.parse_args(["sync"]), Settings()) is None


def test_the_queue_password_is_never_shown(caplog):
    import logging

    from jobs.masking import MaskSecrets, mask_conninfo, secrets_of
    from worker.settings import load_worker_settings

    url = "postgresql://lstm:s3cr3t-pw@db.example:5432/jobs?sslmode=require"
    assert mask_conninfo(url) == "postgresql://lstm:***@db.example:5432/jobs?sslmode=require"
    for load in (load_settings, load_worker_settings):
        settings = load(env={"LSTM_BOT_QUEUE_URL": url}, dotenv=None)
        assert settings.queue_url == url and "s3cr3t" not in repr(settings)
        with pytest.raises(SettingsError) as bad:
            load(env={"LSTM_BOT_QUEUE_URL": "mysql://lstm:s3cr3t-pw@db/jobs"}, dotenv=None)
        assert "s3cr3t" not in str(bad.value) and "postgresql://" in str(bad.value)
    caplog.handler.addFilter(MaskSecrets(secrets_of(url)))
    try:
        raise RuntimeError(f"could not connect to {url}")
    except RuntimeError:
        logging.getLogger("test").exception("queue %s unreachable", url)
    assert "s3cr3t" not in caplog.text and "lstm:***@db.example" in caplog.text


def test_run_without_token_is_one_clear_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "LSTM_BOT_DATA_DIR": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
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
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env={**env, "LSTM_BOT_MAX_LENGTH": "x"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1 and "LSTM_BOT_MAX_LENGTH is malformed" in proc.stderr

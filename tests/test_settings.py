import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings


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
        ({"LSTM_BOT_MAX_LENGTH": "0"}, "must be at least 1"),
        ({"LSTM_BOT_LOG_LEVEL": "LOUD"}, "LSTM_BOT_LOG_LEVEL"),
    ],
)
def test_malformed_settings(env, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(env, None)


def test_missing_token():
    with pytest.raises(SettingsError, match="DISCORD_TOKEN is not set"):
        load_settings({}, None).require_token()


def test_env_example_lists_every_setting():
    from dataclasses import fields

    from worker.settings import WorkerSettings

    example = (Path(__file__).parents[1] / ".env.example").read_text()
    for f in (*fields(Settings), *fields(WorkerSettings)):
        assert f"{f.metadata['env']}=" in example, f.metadata["env"]


def test_the_queue_password_is_never_shown(caplog):
    import logging

    from jobs.config import MaskSecret, mask_url
    from worker.settings import load_worker_settings

    url = "postgresql://lstm:s3cr3t-pw@db.example:5432/jobs?sslmode=require"
    assert mask_url(url) == "postgresql://lstm:***@db.example:5432/jobs?sslmode=require"
    for load in (load_settings, load_worker_settings):
        settings = load(env={"LSTM_BOT_QUEUE_URL": url}, dotenv=None)
        assert settings.queue_url == url and "s3cr3t" not in repr(settings)
        with pytest.raises(SettingsError) as bad:
            load(env={"LSTM_BOT_QUEUE_URL": "mysql://lstm:s3cr3t-pw@db/jobs"}, dotenv=None)
        assert "s3cr3t" not in str(bad.value) and "postgresql://" in str(bad.value)
    caplog.handler.addFilter(MaskSecret("s3cr3t-pw"))
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

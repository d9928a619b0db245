"""The queue's password is masked in every form libpq accepts, and only where it stands."""

from __future__ import annotations

import logging

import pytest

from bot.settings import load_settings
from jobs.config import SettingsError
from jobs.masking import MaskSecrets, mask_conninfo, mask_logs, mask_text, secrets_of
from worker.settings import load_worker_settings

FORMS = [  # (connection string, masked, the password as libpq reads it)
    ("postgresql://lstm:pa#ss@db:5432/jobs", "postgresql://lstm:***@db:5432/jobs", "pa#ss"),
    (
        "postgresql://lstm:pa?ss@db/jobs?sslmode=require",
        "postgresql://lstm:***@db/jobs?sslmode=require",
        "pa?ss",
    ),
    ("postgres://lstm:pa/ss@db/jobs", "postgres://lstm:***@db/jobs", "pa/ss"),
    ("postgresql://lstm:p%40ss:w@db/jobs", "postgresql://lstm:***@db/jobs", "p@ss:w"),
    ("postgresql://:hunter2@db", "postgresql://:***@db", "hunter2"),
    (
        "postgresql://lstm@db/jobs?password=s3cr3t&sslmode=require",
        "postgresql://lstm@db/jobs?password=***&sslmode=require",
        "s3cr3t",
    ),
    (
        "host=db user=lstm password=s3cr3t dbname=jobs",
        "host=db user=lstm password=*** dbname=jobs",
        "s3cr3t",
    ),
    (
        "dbname=jobs password = 'it\\'s a pw' host=db",
        "dbname=jobs password = *** host=db",
        "it's a pw",
    ),
]


@pytest.mark.parametrize("conninfo, masked, password", FORMS)
def test_every_form_is_masked(conninfo: str, masked: str, password: str) -> None:
    assert mask_conninfo(conninfo) == masked
    assert password in secrets_of(conninfo)
    assert password not in mask_text(f"connecting to {conninfo} failed", secrets_of(conninfo))


@pytest.mark.parametrize("conninfo", ["postgresql://lstm@db/jobs", "host=db dbname=jobs", ""])
def test_nothing_to_mask(conninfo: str) -> None:
    assert mask_conninfo(conninfo) == conninfo and secrets_of(conninfo) == []


def test_a_common_word_is_masked_only_where_it_stands() -> None:
    url = "postgresql://lstm:job@db/jobs"
    line = f"job 5 queued on {url}; job done"
    assert mask_text(line, secrets_of(url)) == (
        "job 5 queued on postgresql://lstm:***@db/jobs; job done"
    )


def test_a_long_secret_is_masked_anywhere() -> None:
    url = "postgresql://lstm:s3cr3t-pw!@db/jobs"
    assert mask_text("libpq said: bad s3cr3t-pw! here", secrets_of(url)) == (
        "libpq said: bad *** here"
    )


def test_the_log_filter_masks_messages_arguments_and_tracebacks(caplog) -> None:
    url = "postgresql://lstm:job#1@db/jobs"
    caplog.handler.addFilter(MaskSecrets(secrets_of(url)))
    log = logging.getLogger("test.masking")
    try:
        raise RuntimeError(f"could not connect to {url}")
    except RuntimeError:
        log.exception("queue %s unreachable", url)
    log.warning("job %d queued", 3)
    assert "job#1" not in caplog.text and "lstm:***@db/jobs" in caplog.text
    assert "job 3 queued" in caplog.text


def test_mask_logs_filters_every_handler() -> None:
    root = logging.getLogger()
    handler = logging.StreamHandler()
    root.addHandler(handler)
    try:
        mask_logs("host=db password=s3cr3t")
        mask_logs("host=db password=s3cr3t")  # once only
        assert sum(isinstance(f, MaskSecrets) for f in handler.filters) == 1
    finally:
        root.removeHandler(handler)


@pytest.mark.parametrize("load", [load_settings, load_worker_settings])
def test_settings_accept_every_form_and_never_show_the_password(load, monkeypatch) -> None:
    for conninfo, _, password in FORMS:
        monkeypatch.setenv("LSTM_BOT_QUEUE_URL", conninfo)
        settings = load(None)
        assert settings.queue_conninfo == conninfo and password not in repr(settings)
    for bad in ("mysql://lstm:pa#ss@db/jobs", "just pa#ss words", "password=pa#ss"):
        monkeypatch.setenv("LSTM_BOT_QUEUE_URL", bad)
        with pytest.raises(SettingsError) as refused:
            load(None)
        assert "pa#ss" not in str(refused.value)


def test_a_url_whose_password_holds_a_space_is_masked() -> None:
    """libpq refuses it ("unexpected spaces found in ..."), quoting the password: that line
    is shown, so the whole URL's password is the secret, and one holding more than letters
    and digits is no ordinary word: masked anywhere."""
    url = "postgresql://lstm:a b@db/jobs"
    assert mask_conninfo(url) == "postgresql://lstm:***@db/jobs"
    assert "a b" in secrets_of(url)
    said = f'can\'t reach {url}: unexpected spaces found in "a b", use percent-encoded'
    assert "a b" not in mask_text(said, secrets_of(url))

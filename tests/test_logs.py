"""One logging set-up: one format, one handler however often it runs, passwords masked."""

from __future__ import annotations

import logging

from jobs.logs import FORMAT, setup_logging


def test_one_handler_one_format_and_the_password_masked(capsys):
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    root.handlers[:] = []  # a process's own start, without pytest's handlers
    try:
        setup_logging("info", "postgresql://lstm:s3cr3t@db/lstm")
        setup_logging("INFO", "postgresql://lstm:s3cr3t@db/lstm")
        (handler,) = root.handlers
        assert handler.formatter._fmt == FORMAT and root.level == logging.INFO
        logging.getLogger("lstm.test").warning("cannot reach postgresql://lstm:s3cr3t@db/lstm")
        err = capsys.readouterr().err
        assert "WARNING lstm.test: cannot reach" in err and "s3cr3t" not in err
        logging.getLogger("lstm.test").debug("not shown")
        assert capsys.readouterr().err == ""
    finally:
        root.handlers[:] = before
        root.setLevel(level)

"""The one logging set-up of every process (the bot, the console, the worker): one line per
record on stderr in one format, the queue URL's password (any connection string's) masked."""

from __future__ import annotations

import logging

from .masking import mask_logs

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _Handler(logging.StreamHandler):
    """Ours, so that setting up twice adds no second handler."""


def setup_logging(level: str | int, *conninfos: str | None) -> None:
    """Log records of ``level`` and above to stderr in :data:`FORMAT`; mask the passwords of
    ``conninfos`` (the queue's, the bot state's) in every handler of the process. A host that
    set up logging itself (a test runner, a program embedding this one) keeps its handlers and
    level; they are masked."""
    root = logging.getLogger()
    if not root.handlers:
        handler = _Handler()
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
    if any(isinstance(h, _Handler) for h in root.handlers):
        root.setLevel(level.upper() if isinstance(level, str) else level)
    mask_logs(*conninfos)

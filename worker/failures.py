"""Which failures are worth another attempt, and what the user is told about them.

Bad data or parameters fail at once with a reason for the user (:class:`JobFailure`, a code of
:mod:`jobs.reasons` the bot shows in the user's language). Only
passing trouble (the disk, memory, the network or the database) is retried, with backoff. An
unexpected exception from training is deterministic as far as we know: retrying would repeat
it, so it fails at once too. The user never sees an exception's type or text; the worker's log
has the traceback.
"""

from __future__ import annotations

import sqlite3

from jobs.reasons import Reason, bad_text
from model_store import CorpusError

from .params import ParamsError
from .training import JobFailure

TRANSIENT: tuple[type[BaseException], ...] = (OSError, MemoryError, sqlite3.OperationalError)
try:  # the PostgreSQL engine's connection errors, when it is installed
    import psycopg

    TRANSIENT += (psycopg.OperationalError,)
except ImportError:  # pragma: no cover - the postgres extra is not installed
    pass


def classify(exc: BaseException) -> JobFailure:
    """The failure to record for ``exc`` (its reason is what the user reads)."""
    if isinstance(exc, JobFailure):
        return exc
    if isinstance(exc, ParamsError):
        return JobFailure(Reason("bad_settings"))
    if isinstance(exc, CorpusError):
        return JobFailure(bad_text(exc))
    if isinstance(exc, TRANSIENT):
        return JobFailure(Reason("temporary"), retryable=True)
    return JobFailure(Reason("unexpected"))


def expected(exc: BaseException) -> bool:
    """Failures with a known cause are logged in a line; the rest with a traceback."""
    return isinstance(exc, JobFailure | ParamsError | CorpusError)

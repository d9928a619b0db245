"""Why a job failed or is tried again, as a code with parameters (:class:`Reason`).

The worker and the queue record a reason three ways: its English sentence in the job's
``error`` column and in the event's ``reason`` (for the CLI, logs and older bots), and its
``code`` and ``params`` (the job's ``error_code`` and ``error_params``; the event's ``code``
and ``params``). The bot shows the code's message in the reader's language (``reason.<code>``
in :mod:`bot.i18n`), and the English sentence for a code it does not know (a newer worker) or
for a job recorded before reasons had codes.

:data:`ENGLISH` holds every code and its English template; a ``{placeholder}`` in it is a
parameter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

ENGLISH: dict[str, str] = {
    # -- the worker's --------------------------------------------------------------------
    "temporary": "the training worker hit a temporary problem (storage, memory or network)",
    "unexpected": (
        "training stopped on an unexpected error; the bot's operator can find the details in "
        "the training worker's log"
    ),
    "bad_settings": "the job's training settings are invalid",
    "diverged": (
        "training became unstable (the loss stopped being a number) and was stopped; "
        "it would fail the same way again: try a different or longer text"
    ),
    "bad_text": "{detail}",  # the text can't be trained on; ``detail`` (English) says why
    "invalid_name": "the job names a model with an invalid name",
    "upload_damaged": "the uploaded text arrived damaged; upload it again",
    "upload_gone": "the uploaded text is gone (it was removed before training)",
    "base_missing": "the base model '{name}' is not installed on the training worker",
    "base_outdated": (
        "the training worker's copy of '{name}' differs from the bot's; "
        "the operator should update lstm-bot on the worker"
    ),
    "base_damaged": "the base model '{name}' no longer exists or arrived damaged",
    "base_unloadable": "the base model '{name}' could not be loaded",
    # -- the queue's ---------------------------------------------------------------------
    "worker_stopped": "the worker shut down",
    "worker_unresponsive": "the worker training it stopped responding",
    "worker_gave_up": "the training worker stopped responding too many times",
    # -- the bot's, importing a result -----------------------------------------------------
    "result_damaged": "the trained model arrived damaged; train it again",
    "result_refused": "the trained model names no valid server or model name; train it again",
    "name_taken_meanwhile": (
        "a model named '{name}' was created in the meantime; train it again under another name"
    ),
}


@dataclass(frozen=True)
class Reason:
    """A code of :data:`ENGLISH` and its parameters (JSON values)."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in ENGLISH:
            raise ValueError(f"unknown reason code {self.code!r}")

    def english(self) -> str:
        return ENGLISH[self.code].format(**self.params)

    def params_json(self) -> str:
        return json.dumps(self.params)

    def payload(self) -> dict[str, Any]:
        """The reason's fields of an event's payload."""
        return {"reason": self.english(), "code": self.code, "params": self.params}


def bad_text(exc: Exception) -> Reason:
    """``bad_text`` for a model store ``CorpusError``: its English message, and its problem
    code and parameters (``problem``) for a bot to say it in its reader's language."""
    problem = {"code": getattr(exc, "code", ""), **getattr(exc, "params", {})}
    return Reason("bad_text", {"detail": str(exc), "problem": problem})


WORKER_STOPPED = Reason("worker_stopped")  # a worker let the job go (it shut down)


__all__ = ["ENGLISH", "WORKER_STOPPED", "Reason", "bad_text"]

"""Errors a command raises to tell the user something (shown ephemerally by the tree's handler)."""

from __future__ import annotations

from typing import Any

from discord import app_commands

from .i18n import Message


class UserFacingError(app_commands.AppCommandError):
    """Shown to the user as it is, ephemerally, in their language. Not logged as a bug.

    ``key`` names a message of :mod:`bot.i18n`; ``params`` fill its placeholders."""

    def __init__(self, key: str, /, **params: Any):
        self.message = Message(key, params)
        super().__init__(str(self.message))

    def text(self, locale: Any) -> str:
        return self.message.text(locale)

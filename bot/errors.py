"""Errors a command raises to tell the user something (shown ephemerally by the tree's handler)."""

from __future__ import annotations

from discord import app_commands


class UserFacingError(app_commands.AppCommandError):
    """The message is shown to the user as is, ephemerally. Not logged as a bug."""

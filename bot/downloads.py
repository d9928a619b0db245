"""Downloading an attachment from Discord: the one way the bot does it, with a time limit.

A download either gives the file's bytes or raises :class:`DownloadFailed`, which tells a
file that is gone (404 Not Found, 403 Forbidden: asking again won't help) from a passing
failure (a time-out, a 5xx, a reset connection: try again in a moment).
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import discord

from .i18n import Message

log = logging.getLogger(__name__)

DOWNLOAD_SECONDS = 30.0  # the most one download may take


class DownloadFailed(Exception):
    """The attachment could not be downloaded: ``gone`` (404, 403) or a passing failure;
    ``why`` says which, for the user (``str()`` gives the English)."""

    def __init__(self, why: str | Message, *, gone: bool):
        super().__init__(str(why))
        self.why = why
        self.gone = gone


async def download(attachment: discord.Attachment, seconds: float | None = None) -> bytes:
    """The attachment's bytes, within ``seconds`` (default :data:`DOWNLOAD_SECONDS`)."""
    limit = DOWNLOAD_SECONDS if seconds is None else seconds
    try:
        async with asyncio.timeout(limit):
            return await attachment.read()
    except (discord.NotFound, discord.Forbidden) as exc:
        failure = DownloadFailed(f"HTTP {exc.status}", gone=True)
    except discord.HTTPException as exc:
        failure = DownloadFailed(f"HTTP {exc.status}", gone=False)
    except TimeoutError:
        failure = DownloadFailed(Message("download.timeout"), gone=False)
    except (aiohttp.ClientError, OSError) as exc:
        log.debug("download of %s failed", attachment.filename, exc_info=exc)
        failure = DownloadFailed(Message("download.network_error"), gone=False)
    log.warning("could not download attachment %s: %s", attachment.filename, failure)
    raise failure

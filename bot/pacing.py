"""Living within Discord's rate limits, and getting through its outages.

discord.py already waits when a bucket is empty (it reads the ``X-RateLimit-*`` headers), so
the bot meets no 429 in the normal course. What it can't do is skip work: a reply streamed
faster than its bucket allows would have each edit wait behind the last. :class:`Pacing`
learns every bucket's ``remaining`` from the answers themselves (an aiohttp trace given to
discord.py as ``http_trace``) so that optional edits (the intermediate edits of a reply, a
job's progress) are skipped when little of their bucket is left, keeping the rest for the
edits that must land (the final text, the buttons). It also counts what Discord refused
(429s, and the 401/403/429 answers Discord counts against its invalid-request limit).

:func:`deliver` sends what must arrive (a reply's final text, a job's result): on an outage
(5xx, a reset connection, a timeout, a 429 discord.py gave up on) it tries again with
backoff.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import aiohttp
import discord

from jobs import backoff

log = logging.getLogger(__name__)

T = TypeVar("T")

RESERVE = 2  # requests of a bucket kept for the edits that must land
INVALID_WINDOW = 600.0  # Discord counts 401, 403 and 429 answers over 10 minutes
ATTEMPTS = 5  # tries of what must arrive
FIRST_DELAY = 1.0  # seconds before the second try; doubles

_API = re.compile(r"/api/v\d+(/.*)$")
_MESSAGE_ID = re.compile(r"(/messages)/[^/]+")


def route_key(method: str, path: str) -> str:
    """A bucket's key: the method and the path with the message id left out (the channel id
    or webhook token, the bucket's resource, stay)."""
    match = _API.search(path)
    return method + " " + _MESSAGE_ID.sub(r"\1/*", match.group(1) if match else path)


def webhook_edit_key(interaction: discord.Interaction) -> str:
    """The bucket of edits to an interaction's messages (@original and followups)."""
    path = f"/api/v10/webhooks/{interaction.application_id}/{interaction.token}/messages/0"
    return route_key("PATCH", path)


def channel_edit_key(channel_id: int) -> str:
    return route_key("PATCH", f"/api/v10/channels/{channel_id}/messages/0")


@dataclass
class _Bucket:
    remaining: int
    resets_at: float  # time.monotonic()


class Pacing:
    def __init__(self) -> None:
        self._buckets: dict[str, _Bucket] = {}
        self._invalid: deque[float] = deque()
        self.rate_limited = 0  # 429 answers seen

    def trace_config(self) -> aiohttp.TraceConfig:
        trace = aiohttp.TraceConfig()
        trace.on_request_end.append(self._on_request_end)
        return trace

    async def _on_request_end(self, session: object, ctx: object, params: object) -> None:
        response: aiohttp.ClientResponse = params.response  # type: ignore[attr-defined]
        self.observe(params.method, params.url.path, response.status, response.headers)  # type: ignore[attr-defined]

    def observe(self, method: str, path: str, status: int, headers: object) -> None:
        """Learn from one answer (its status and ``X-RateLimit-*`` headers)."""
        now = time.monotonic()
        if status in (401, 403, 429):
            self._invalid.append(now)
        if status == 429:
            self.rate_limited += 1
            log.warning("Discord answered 429 to %s %s", method, _API.sub(r"\1", path))
        get = headers.get  # type: ignore[attr-defined]
        remaining, reset_after = get("X-RateLimit-Remaining"), get("X-RateLimit-Reset-After")
        if remaining is None or reset_after is None:
            return
        try:
            bucket = _Bucket(int(remaining), now + float(reset_after))
        except ValueError:
            return
        self._buckets[route_key(method, path)] = bucket
        if len(self._buckets) > 10_000:  # forget the buckets whose window has passed
            self._buckets = {k: b for k, b in self._buckets.items() if b.resets_at > now}

    def may_edit(self, key: str, reserve: int = RESERVE) -> bool:
        """Whether an optional request on this bucket leaves ``reserve`` for the ones that
        must land (true for a bucket not seen yet, or whose window has passed)."""
        bucket = self._buckets.get(key)
        return bucket is None or bucket.remaining > reserve or time.monotonic() >= bucket.resets_at

    @property
    def invalid_requests(self) -> int:
        """401, 403 and 429 answers within the last 10 minutes (Discord's limit: 10,000)."""
        cutoff = time.monotonic() - INVALID_WINDOW
        while self._invalid and self._invalid[0] < cutoff:
            self._invalid.popleft()
        return len(self._invalid)


def transient(exc: BaseException) -> bool:
    """An outage worth trying again: a 5xx, a 429 discord.py gave up on, a reset or timed-out
    connection. A 4xx (unknown message, missing access, invalid body) is not."""
    if isinstance(exc, discord.RateLimited | discord.DiscordServerError):
        return True
    if isinstance(exc, discord.HTTPException):
        return exc.status >= 500 or exc.status == 429
    return isinstance(exc, aiohttp.ClientError | TimeoutError | ConnectionError)


async def deliver(
    send: Callable[[], Awaitable[T]],
    what: str,
    *,
    attempts: int = ATTEMPTS,
    first_delay: float = FIRST_DELAY,
) -> T:
    """``await send()`` until it works, trying again after an outage (``transient``) with
    backoff; other errors, and the last outage, are raised. ``send`` builds its request
    anew each time (a ``discord.File`` is spent once sent)."""
    for attempt in range(1, attempts + 1):
        try:
            return await send()
        except Exception as exc:
            if attempt == attempts or not transient(exc):
                raise
            wait = backoff.delay(attempt, first_delay, first_delay * 2**attempts)
            log.info("%s failed (%s); trying again in %.1f s", what, _describe(exc), wait)
        await asyncio.sleep(wait)
    raise AssertionError("unreachable")


async def try_once(send: Callable[[], Awaitable[object]], what: str) -> bool:
    """An optional request: an outage skips it (the next one, or the final one, carries
    its content); whether it went through."""
    try:
        await send()
    except Exception as exc:
        if not transient(exc):
            raise
        log.info("%s skipped (%s)", what, _describe(exc))
        return False
    return True


def _describe(exc: BaseException) -> str:
    if isinstance(exc, discord.HTTPException):
        return f"HTTP {exc.status}"
    return type(exc).__name__

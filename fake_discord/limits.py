"""Discord's REST rate limits and the invalid-request counter, as the fake enforces them.

- **Per-route buckets**, keyed by the route and its top-level resource (the channel, the
  guild, or the webhook id + token), with Discord's ``X-RateLimit-Limit / Remaining / Reset
  / Reset-After / Bucket`` headers on every answer of a limited route. Past the limit: 429
  with ``retry_after``, ``global: false``, ``X-RateLimit-Scope: user``, ``Retry-After`` and
  ``Via`` (discord.py treats a 429 without ``Via`` as a Cloudflare ban).
- **The global limit**: ``global_per_second`` (50) requests a second per bot token; the
  interaction endpoints (callbacks, and the webhooks of interaction tokens) are exempt. Past
  it: 429 with ``global: true`` and ``X-RateLimit-Global``.
- **The invalid-request counter**: 401, 403 and 429 answers (a 429 of scope ``shared``
  excepted) within ``invalid_window`` (10 minutes); past ``invalid_limit`` (10,000) every
  request is refused, as Cloudflare does, with a bare 429 (no ``Via``, a text body) until the
  window has moved on.

The windows are fixed: a bucket's window starts at its first request and ends ``per``
seconds later, when ``remaining`` is back at ``limit``.
"""

from __future__ import annotations

import math
import re
import time
import zlib
from collections import deque
from dataclasses import dataclass, field

#: (method, path template under /api/v10, requests, per seconds). First match wins; routes
#: not listed are only under the global limit. Values as Discord answers them.
ROUTES: list[tuple[str, str, int, float]] = [
    ("POST", "/channels/{channel_id}/messages", 5, 5.0),
    ("PATCH", "/channels/{channel_id}/messages/{msg_id}", 5, 5.0),
    ("DELETE", "/channels/{channel_id}/messages/{msg_id}", 5, 1.0),
    ("GET", "/channels/{channel_id}/messages/{msg_id}", 5, 1.0),
    ("GET", "/channels/{channel_id}/messages", 5, 1.0),
    ("POST", "/channels/{channel_id}/typing", 5, 5.0),
    ("PUT", "/channels/{channel_id}/messages/{msg_id}/reactions/{emoji}/@me", 1, 0.25),
    ("GET", "/channels/{channel_id}", 5, 1.0),
    ("POST", "/webhooks/{app_id}/{token}", 5, 2.0),
    ("GET", "/webhooks/{app_id}/{token}/messages/{msg_id}", 5, 2.0),
    ("PATCH", "/webhooks/{app_id}/{token}/messages/{msg_id}", 5, 2.0),
    ("DELETE", "/webhooks/{app_id}/{token}/messages/{msg_id}", 5, 2.0),
    ("GET", "/guilds/{guild_id}", 5, 1.0),
    ("GET", "/guilds/{guild_id}/channels", 5, 1.0),
    ("GET", "/guilds/{guild_id}/roles", 5, 1.0),
    ("GET", "/guilds/{guild_id}/members/{user_id}", 5, 1.0),
    ("PUT", "/applications/{app_id}/commands", 10, 20.0),
    ("PUT", "/applications/{app_id}/guilds/{guild_id}/commands", 10, 20.0),
]
_MAJOR = ("channel_id", "guild_id", "token")
INTERACTION_PATH = re.compile(r"^/(interactions/\d+/[^/]+/callback|webhooks/\d+/ix\.[^/]+)")


def _compile(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return re.compile(f"^{pattern}$")


_COMPILED = [(m, _compile(t), t, n, per) for m, t, n, per in ROUTES]


@dataclass
class Bucket:
    limit: int
    per: float
    name: str  # the X-RateLimit-Bucket hash (one per route, shared by its resources)
    window_start: float = -math.inf
    used: int = 0

    def roll(self, now: float) -> None:
        if now >= self.window_start + self.per:
            self.window_start, self.used = now, 0

    def reset_after(self, now: float) -> float:
        return max(0.0, self.window_start + self.per - now)


@dataclass
class Verdict:
    """What the limiter says about one request: headers to add, or a refusal."""

    headers: dict[str, str] = field(default_factory=dict)
    status: int = 0  # 0: go ahead
    body: dict | str | None = None
    reason: str = ""


@dataclass
class RateLimits:
    """The fake's rate limits; ``enabled=False`` turns every check off (headers too)."""

    enabled: bool = True
    global_per_second: int = 50
    invalid_limit: int = 10_000
    invalid_window: float = 600.0
    clock: object = time.monotonic
    buckets: dict[tuple[str, str], Bucket] = field(default_factory=dict)
    _global: deque[float] = field(default_factory=deque)
    invalid: deque[float] = field(default_factory=deque)
    #: Counters for reports: 429s given (route and global), requests refused as banned.
    limited: int = 0
    global_limited: int = 0
    banned: int = 0

    def now(self) -> float:
        return self.clock()  # type: ignore[operator]

    def check(self, method: str, path: str) -> Verdict:
        """Count a request to ``path`` (under /api/v10) and say whether it may go ahead."""
        if not self.enabled:
            return Verdict()
        now = self.now()
        self._forget_invalid(now)
        if len(self.invalid) >= self.invalid_limit:
            self.banned += 1
            oldest = self.invalid[0] + self.invalid_window - now
            text = "error code: 1015 (you are being blocked: too many invalid requests)"
            return Verdict({"Retry-After": str(math.ceil(oldest))}, 429, text, "banned")
        if not INTERACTION_PATH.match(path):
            verdict = self._global_check(now)
            if verdict is not None:
                return verdict
        return self._route_check(method, path, now)

    def _global_check(self, now: float) -> Verdict | None:
        while self._global and self._global[0] <= now - 1.0:
            self._global.popleft()
        if len(self._global) < self.global_per_second:
            self._global.append(now)
            return None
        retry = max(0.001, self._global[0] + 1.0 - now)
        self.global_limited += 1
        self.note_invalid(429)
        body = {"message": "You are being rate limited.", "retry_after": round(retry, 3)}
        body |= {"global": True, "code": 0}
        headers = {"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"}
        headers |= {"Retry-After": str(math.ceil(retry)), "Via": "1.1 google"}
        return Verdict(headers, 429, body, f"global limit of {self.global_per_second}/s")

    def _route_check(self, method: str, path: str, now: float) -> Verdict:
        for m, pattern, template, limit, per in _COMPILED:
            match = pattern.match(path)
            if m != method or match is None:
                continue
            params = match.groupdict()
            major = ":".join(params[k] for k in _MAJOR if k in params)
            name = f"{zlib.crc32(template.encode()):08x}"
            bucket = self.buckets.get((template, major))
            if bucket is None:
                bucket = self.buckets[(template, major)] = Bucket(limit, per, name)
            bucket.roll(now)
            reset_after = bucket.reset_after(now)
            if bucket.used >= limit:
                self.limited += 1
                self.note_invalid(429)
                headers = self._headers(bucket, now, 0, reset_after)
                headers |= {"X-RateLimit-Scope": "user", "Via": "1.1 google"}
                headers["Retry-After"] = str(math.ceil(reset_after))
                body = {"message": "You are being rate limited.", "global": False, "code": 0}
                body["retry_after"] = round(max(reset_after, 0.001), 3)
                return Verdict(headers, 429, body, f"{method} {template} ({limit} per {per:g} s)")
            bucket.used += 1
            if bucket.used == 1:
                reset_after = per
            return Verdict(self._headers(bucket, now, limit - bucket.used, reset_after))
        return Verdict()

    @staticmethod
    def _headers(bucket: Bucket, now: float, remaining: int, reset_after: float) -> dict:
        return {
            "X-RateLimit-Limit": str(bucket.limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket.name,
        }

    def note_invalid(self, status: int) -> None:
        """Count a 401, 403 or 429 answer towards the invalid-request limit."""
        if self.enabled and status in (401, 403, 429):
            self.invalid.append(self.now())

    def _forget_invalid(self, now: float) -> None:
        while self.invalid and self.invalid[0] <= now - self.invalid_window:
            self.invalid.popleft()

    @property
    def invalid_count(self) -> int:
        """Invalid requests (401, 403, 429) within the window now."""
        self._forget_invalid(self.now())
        return len(self.invalid)

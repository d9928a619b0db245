"""Sharding as Discord does it: which gateway connection gets which event.

A bot identifies each connection with ``shard: [shard_id, shard_count]`` (none: one shard).
A server's events (its GUILD_CREATE, messages, interactions...) go only to shard
``(guild_id >> 22) % shard_count``; events outside any server (DMs) go to shard 0.

``/gateway/bot`` recommends a shard count (:attr:`Sharding.recommended`; by default one per
1000 servers, as Discord does) and a ``session_start_limit.max_concurrency``. An IDENTIFY is
refused with close code 4010 (invalid shard) when its shard is malformed or out of range, and
4011 (sharding required) when its shard would hold more than
:attr:`Sharding.max_guilds_per_shard` servers (2500 on Discord; lower it in tests).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .models import snowflake

INVALID_SHARD = 4010
SHARDING_REQUIRED = 4011
GUILDS_PER_RECOMMENDED_SHARD = 1000

#: Events whose payload is the guild itself (its id is ``id``, not ``guild_id``).
_GUILD_EVENTS = frozenset({"GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"})


@dataclass
class Sharding:
    """What the fake tells bots about sharding; change it before the bot connects."""

    recommended: int | None = None  # None: one shard per 1000 servers, at least one
    max_concurrency: int = 1
    max_guilds_per_shard: int = 2500

    def recommend(self, guild_count: int) -> int:
        if self.recommended is not None:
            return self.recommended
        return max(1, -(-guild_count // GUILDS_PER_RECOMMENDED_SHARD))

    def gateway_bot(self, url: str, guild_count: int) -> dict[str, Any]:
        """The body of ``GET /gateway/bot``."""
        limit = {
            "total": 1000,
            "remaining": 999,
            "reset_after": 0,
            "max_concurrency": self.max_concurrency,
        }
        return {"url": url, "shards": self.recommend(guild_count), "session_start_limit": limit}

    def refuse_identify(self, shard: Any, guild_ids: Iterable[int]) -> tuple[int, str] | None:
        """The close code and reason for an IDENTIFY with ``shard``, or None to accept it."""
        if shard is not None and not _valid(shard):
            return INVALID_SHARD, "Invalid shard"
        held = sum(1 for gid in guild_ids if holds(shard, gid))
        if held > self.max_guilds_per_shard:
            return SHARDING_REQUIRED, "Sharding required"
        return None


def _valid(shard: Any) -> bool:
    if not isinstance(shard, list | tuple) or len(shard) != 2:
        return False
    shard_id, count = shard
    if not isinstance(shard_id, int) or not isinstance(count, int):
        return False
    return count >= 1 and 0 <= shard_id < count


def shard_of(guild_id: int | None, shard_count: int) -> int:
    """The shard a server's events go to (0 for events outside any server)."""
    return 0 if guild_id is None else (guild_id >> 22) % shard_count


def snowflake_on_shard(shard_id: int, shard_count: int) -> int:
    """A new snowflake whose server would be on ``shard_id`` of ``shard_count``: the newest
    timestamp at or before now with the right remainder (unique: the counter bits differ)."""
    flake = snowflake()
    ms = flake >> 22
    ms -= (ms - shard_id) % shard_count
    return (ms << 22) | (flake & ((1 << 22) - 1))


def holds(shard: Any, guild_id: int | None) -> bool:
    """Whether a connection identified with ``shard`` receives ``guild_id``'s events."""
    if shard is None:
        return True
    shard_id, count = shard
    return shard_of(guild_id, count) == shard_id


def event_guild(event: str, data: dict[str, Any]) -> int | None:
    """The server an event belongs to (None: a DM or no server)."""
    raw = data.get("id") if event in _GUILD_EVENTS else data.get("guild_id")
    return int(raw) if raw is not None else None


def receives(shard: Any, event: str, data: dict[str, Any]) -> bool:
    """Whether a connection identified with ``shard`` gets this event."""
    return holds(shard, event_guild(event, data))

"""Shards: which servers this process serves, and agreement with the other bot processes.

Discord sends a server's events only to shard ``(guild_id >> 22) % shard_count``; events
outside a server (DMs) to shard 0. A bot process holds some shards (by default all of them);
several processes on one database split them. Each process records its shards in the
``bot_shards`` table (with its machine, pid and shard count) and refreshes the row every
``HEARTBEAT_SECONDS``: a process whose shard count differs from a running one's, or that asks
for a shard another running process holds, refuses to start with :class:`ShardConflict`
(saying which); a running process whose rows another took over (it looked silent) stops
(:meth:`ShardClaims.refresh`). A row is not "running" any more when its process is gone or a
zombie (same machine), or has not been refreshed for ``STALE_SECONDS``. A machine is its host
name and what tells it from another of that name (:func:`this_machine`: cloned machines,
containers sharing the host's name): only on the same machine does a pid say whether a
process runs.

Discord lets one IDENTIFY per 5 s per bucket (``shard_id % max_concurrency``), per bot: the
``identify_slots`` table hands out the slots across processes (:func:`identify_slot`).

Times (heartbeats, IDENTIFY slots) are the database's clock on PostgreSQL (:func:`db_time`):
processes on several machines compare them, and machines' clocks differ.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from jobs.config import SettingsError
from jobs.db import Database

from .state_db import StateDatabase

HEARTBEAT_SECONDS = 5.0
STALE_SECONDS = 30.0
IDENTIFY_SECONDS = 5.0


class ShardConflict(SettingsError):
    """This process's shard settings disagree with a running bot process's."""


def parse_shard_ids(text: str) -> tuple[int, ...]:
    """``"0,2,4-6"`` -> ``(0, 2, 4, 5, 6)``; ``ValueError`` when malformed."""
    ids: list[int] = []
    for part in text.replace(" ", "").split(","):
        low, sep, high = part.partition("-")
        first, last = int(low), int(high) if sep else int(low)
        if first < 0 or last < first:
            raise ValueError(f"bad shard range {part!r}")
        ids.extend(range(first, last + 1))
    if len(set(ids)) != len(ids):
        raise ValueError("a shard id is given twice")
    return tuple(sorted(ids))


def format_shard_ids(ids: tuple[int, ...] | list[int]) -> str:
    return ",".join(str(i) for i in ids)


def split_shards(shard_count: int, processes: int) -> list[tuple[int, ...]]:
    """The shards of each of ``processes`` processes (round robin, so that servers spread)."""
    if processes < 1 or processes > shard_count:
        raise ValueError(f"{processes} processes can't split {shard_count} shard(s)")
    return [tuple(range(i, shard_count, processes)) for i in range(processes)]


@dataclass(frozen=True)
class Claim:
    shard_id: int
    shard_count: int
    host: str
    pid: int
    seen_at: float

    def describe(self) -> str:
        name, _, token = self.host.partition("#")
        return f"the bot process {self.pid} on {name}" + (
            f" (machine {token[:8]})" if token else ""
        )


def this_machine() -> str:
    """``<host name>#<token>``: the token hashes the boot id and the pid namespace, so that
    two machines of one name (or containers sharing the host's name, each with its own pids)
    differ, and every process of one machine (one pid namespace) agrees."""
    parts = []
    for read in (
        lambda: Path("/proc/sys/kernel/random/boot_id").read_text().strip(),
        lambda: os.readlink("/proc/self/ns/pid"),
    ):
        try:
            parts.append(read())
        except OSError:
            parts.append("")
    token = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]
    return f"{socket.gethostname()}#{token}"


def _alive(claim: Claim, host: str, now: float) -> bool:
    if now - claim.seen_at > STALE_SECONDS:
        return False
    if claim.host != host:
        return True
    try:
        os.kill(claim.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(claim.pid)


def _zombie(pid: int) -> bool:
    """A process that has ended but not been reaped by its parent yet (Linux)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]


async def db_time(db: StateDatabase) -> float:
    """Now, in seconds since the epoch: this machine's clock for the SQLite file (one
    machine), the server's on PostgreSQL (one clock for every machine)."""
    if isinstance(db, Database):
        return time.time()
    row = await db.fetchone("SELECT extract(epoch FROM clock_timestamp())")
    return float(row[0])


class ShardClaims:
    """This process's rows in ``bot_shards``."""

    def __init__(self, db: StateDatabase, *, host: str | None = None, pid: int | None = None):
        self.db = db
        self.host = host or this_machine()
        self.pid = pid or os.getpid()
        self.shard_ids: tuple[int, ...] = ()  # claimed
        self.shard_count = 0

    async def claim(self, shard_count: int, shard_ids: tuple[int, ...]) -> None:
        """Record this process's shards; :class:`ShardConflict` when a running process
        disagrees (another shard count, or one of these shards)."""
        now = await db_time(self.db)
        async with self.db.transaction() as conn:
            async with conn.execute("SELECT * FROM bot_shards ORDER BY shard_id") as cursor:
                rows = [Claim(*row) for row in await cursor.fetchall()]
            others = [
                c
                for c in rows
                if (c.host, c.pid) != (self.host, self.pid) and _alive(c, self.host, now)
            ]
            for other in others:
                if other.shard_count != shard_count:
                    raise ShardConflict(
                        f"this process's shard count ({shard_count}) disagrees with "
                        f"{other.describe()}, which runs with {other.shard_count} shards: "
                        "give every bot process the same LSTM_BOT_SHARD_COUNT"
                    )
                if other.shard_id in shard_ids:
                    raise ShardConflict(
                        f"shard {other.shard_id} is already held by {other.describe()}: "
                        "give each bot process its own LSTM_BOT_SHARD_IDS"
                    )
            live = {c.shard_id for c in others}
            for gone in {c.shard_id for c in rows} - live:
                await conn.execute("DELETE FROM bot_shards WHERE shard_id = ?", (gone,))
            await conn.executemany(
                "INSERT INTO bot_shards (shard_id, shard_count, host, pid, seen_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [(i, shard_count, self.host, self.pid, now) for i in shard_ids],
            )
        self.shard_ids, self.shard_count = tuple(shard_ids), shard_count

    async def refresh(self) -> tuple[int, ...]:
        """The heartbeat; returns the claimed shards another process holds now: it found this
        one silent (cut off from the database, or stalled, that long) and took them over.
        Rows removed as stale but taken by no one are written again."""
        now = await db_time(self.db)
        changed = await self.db.execute(
            "UPDATE bot_shards SET seen_at = ? WHERE host = ? AND pid = ?",
            (now, self.host, self.pid),
        )
        if changed >= len(self.shard_ids):
            return ()
        async with self.db.transaction() as conn:
            async with conn.execute("SELECT shard_id, host, pid FROM bot_shards") as cursor:
                held = {int(r[0]): (r[1], int(r[2])) for r in await cursor.fetchall()}
            me = (self.host, self.pid)
            lost = tuple(i for i in self.shard_ids if held.get(i, me) != me)
            await conn.executemany(
                "INSERT INTO bot_shards (shard_id, shard_count, host, pid, seen_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [(i, self.shard_count, *me, now) for i in self.shard_ids if i not in held],
            )
        return lost

    async def release(self) -> None:
        await self.db.execute(
            "DELETE FROM bot_shards WHERE host = ? AND pid = ?", (self.host, self.pid)
        )


async def running_claims(db: StateDatabase) -> list[Claim]:
    """The rows of processes running now (as :meth:`ShardClaims.claim` judges them)."""
    now, here = await db_time(db), this_machine()
    rows = [Claim(*row) for row in await db.fetchall("SELECT * FROM bot_shards")]
    return [c for c in rows if _alive(c, here, now)]


async def identify_slot(db: StateDatabase, shard_id: int, max_concurrency: int) -> float:
    """Reserve this shard's next IDENTIFY slot; the seconds to wait before using it."""
    bucket = shard_id % max(1, max_concurrency)
    now = await db_time(db)
    async with db.transaction() as conn:
        async with conn.execute(
            "SELECT next_at FROM identify_slots WHERE bucket = ?", (bucket,)
        ) as cursor:
            row = await cursor.fetchone()
        at = max(now, float(row[0])) if row else now
        await conn.execute(
            "INSERT INTO identify_slots (bucket, next_at) VALUES (?, ?)"
            " ON CONFLICT (bucket) DO UPDATE SET next_at = excluded.next_at",
            (bucket, at + IDENTIFY_SECONDS),
        )
    return at - now

"""``lstm-bot run --processes N``: N bot processes on this machine that split the shards.

The shard count is ``LSTM_BOT_SHARD_COUNT`` (refused when under N), else Discord's
recommendation and at least N; process ``i`` gets shards ``i, i + N, i + 2N, ...``
(``LSTM_BOT_SHARD_COUNT`` and
``LSTM_BOT_SHARD_IDS`` in its environment). They share the database (the SQLite file, or
PostgreSQL with ``LSTM_BOT_DATABASE_URL``) and the data folder. SIGTERM or Ctrl-C is passed
on to every process; a process that dies leaves the others serving (its servers go unanswered
until it is started again). Exits when all have ended, with the worst exit status.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from types import FrameType

from .settings import Settings, SettingsError
from .sharding import format_shard_ids, split_shards

log = logging.getLogger(__name__)


def plan(settings: Settings, processes: int, recommended: Callable[[], int]) -> tuple[int, list]:
    """(shard count, each process's shards)."""
    if processes < 1:
        raise SettingsError("--processes must be at least 1")
    if settings.shard_ids:
        raise SettingsError("--processes splits the shards itself: leave LSTM_BOT_SHARD_IDS empty")
    if settings.shard_count is not None and settings.shard_count < processes:
        raise SettingsError(
            f"{processes} processes need at least {processes} shards, and "
            f"LSTM_BOT_SHARD_COUNT is {settings.shard_count}: raise it (on every machine) or "
            "start fewer processes"
        )
    count = settings.shard_count or max(recommended(), processes)
    return count, split_shards(count, processes)


def recommended_shards(token: str) -> int:
    """Discord's recommended shard count for this bot (``GET /gateway/bot``)."""
    import asyncio

    import discord.http

    async def ask() -> int:
        http = discord.http.HTTPClient(asyncio.get_running_loop())
        try:
            await http.static_login(token)
            count, _, _ = await http.get_bot_gateway()
            return int(count)
        finally:
            await http.close()

    return asyncio.run(ask())


def launch(
    settings: Settings,
    processes: int,
    command: list[str],
    recommended: Callable[[], int],
) -> int:
    """Run ``command`` once per process with its shards in the environment; wait for all."""
    count, shares = plan(settings, processes, recommended)
    children: list[tuple[tuple[int, ...], subprocess.Popen]] = []
    for shards in shares:
        env = dict(os.environ)
        env.update(LSTM_BOT_SHARD_COUNT=str(count), LSTM_BOT_SHARD_IDS=format_shard_ids(shards))
        children.append((shards, subprocess.Popen(command, env=env)))
        log.info(
            "started bot process %d for shards %s of %d",
            children[-1][1].pid,
            format_shard_ids(shards),
            count,
        )

    def forward(signum: int, frame: FrameType | None) -> None:
        for _, child in children:
            if child.poll() is None:
                child.send_signal(signum)

    old = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        worst = 0
        running = list(children)
        while running:  # reap each as it ends (a dead one must not linger as a zombie)
            for shards, child in list(running):
                rc = child.poll()
                if rc is None:
                    continue
                running.remove((shards, child))
                if rc != 0:
                    shown = format_shard_ids(shards)
                    log.error("the bot process for shards %s ended with %d", shown, rc)
                worst = max(worst, abs(rc))
            time.sleep(0.2)
        return worst
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def bot_command(env_file: str) -> list[str]:
    """The command of one shard process: ``lstm-bot run`` with the same settings file."""
    return [sys.executable, "-m", "cli", "--env-file", env_file, "run"]

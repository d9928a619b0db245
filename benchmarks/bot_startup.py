"""The bot process's start-up: time to ready and resident memory with the default model loaded.

Runs the real bot against the fake Discord server in this (fresh) process, waits until it is
ready with the default model loaded (setup_hook warms it), then prints the time from process
start, the resident set size, and whether TensorFlow was imported (it must not be).

    .venv/bin/python benchmarks/bot_startup.py
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import asyncio  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from bot_harness import builtin_root, rss_mb  # noqa: E402

from bot.client import LSTMBot  # noqa: E402
from bot.settings import Settings  # noqa: E402
from fake_discord import FakeDiscord  # noqa: E402
from fake_discord.testing import running_bot  # noqa: E402


async def main() -> None:
    root = builtin_root()
    imported = time.perf_counter() - T0
    settings = Settings(data_dir=Path(tempfile.mkdtemp()))
    async with FakeDiscord() as fake:
        fake.add_guild("Guild")
        bot = LSTMBot(settings, builtin_root=root)
        async with running_bot(fake, bot):
            ready = time.perf_counter() - T0
            engines = len(bot.generation._engines)
            rss = rss_mb()
    print(f"imports done after {imported * 1000:.0f} ms")
    print(
        f"ready (database migrated, cogs loaded, default model loaded: {engines} engine) "
        f"after {ready * 1000:.0f} ms from process start"
    )
    print(f"resident memory: {rss:.0f} MB (target <= 200 MB)")
    print(
        f"tensorflow imported: {'tensorflow' in sys.modules}; keras imported: "
        f"{'keras' in sys.modules}"
    )


if __name__ == "__main__":
    asyncio.run(main())

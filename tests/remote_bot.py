"""The real bot in a process of its own, connected to a fake Discord running in the test's
process: ``python -m tests.remote_bot --api URL --gateway URL --builtin DIR``.

Settings come from the environment, as for ``lstm-bot run``. A test helper, not part of the
product's command line. SIGTERM closes the bot cleanly (the reporter finishes its pass).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from bot.client import LSTMBot
from bot.settings import load_settings
from fake_discord.server import point_discord_at
from jobs.masking import mask_logs


async def run(args: argparse.Namespace) -> int:
    settings = load_settings(dotenv=None)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("discord").setLevel(logging.WARNING)
    mask_logs(settings.queue_url)
    with point_discord_at(args.api, args.gateway, "zlib-stream"):
        bot = LSTMBot(settings, sync_commands=True, builtin_root=Path(args.builtin))
        bot._connection.guild_ready_timeout = 0.05
        loop = asyncio.get_running_loop()
        closing: list[asyncio.Task] = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: closing.append(asyncio.create_task(bot.close())))
        try:
            await bot.start("fake-token")
        finally:
            await asyncio.gather(*closing)
            await bot.close()
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.remote_bot")
    parser.add_argument("--api", required=True, help="the fake's REST base URL")
    parser.add_argument("--gateway", required=True, help="the fake's gateway URL")
    parser.add_argument("--builtin", required=True, help="built-in models directory")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

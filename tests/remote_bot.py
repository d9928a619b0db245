"""The real bot in a process of its own, connected to a fake Discord running in the test's
process: ``python -m tests.remote_bot --api URL --gateway URL --builtin DIR [--processes N]``.

Settings come from the environment, as for ``lstm-bot run``. A test helper, not part of the
product's command line. SIGTERM closes the bot cleanly, as ``lstm-bot run`` does
(:func:`bot.client.serve`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from pathlib import Path

from bot import launcher
from bot.client import LSTMBot, serve
from bot.launcher import recommended_shards
from bot.settings import load_settings
from fake_discord.server import point_discord_at
from jobs.logs import setup_logging


async def run(args: argparse.Namespace) -> int:
    settings = load_settings(dotenv=None)
    setup_logging(logging.INFO, settings.queue_conninfo, settings.state_conninfo)
    logging.getLogger("discord").setLevel(logging.WARNING)
    with point_discord_at(args.api, args.gateway, "zlib-stream"):
        bot = LSTMBot(settings, sync_commands=True, builtin_root=Path(args.builtin))
        bot._connection.guild_ready_timeout = 0.05
        await serve(bot, "fake-token")  # as ``lstm-bot run`` does
    return 0


def launch(args: argparse.Namespace) -> int:
    """``--processes N``: what ``lstm-bot run --processes N`` does (bot.launcher), with this
    helper as each process's command."""
    setup_logging(logging.INFO)
    command = [sys.executable, "-m", "tests.remote_bot", "--api", args.api]
    command += ["--gateway", args.gateway, "--builtin", args.builtin]

    def recommended() -> int:
        with point_discord_at(args.api, args.gateway):
            return recommended_shards("fake-token")

    return launcher.launch(load_settings(dotenv=None), args.processes, command, recommended)


def slow_generation(seconds: float) -> None:
    """Every generation step (one character of every reply) takes ``seconds`` more: replies
    stay in flight long enough to stop or kill the bot meanwhile."""
    from model_store.sampling import BatchSampler

    step = BatchSampler.step

    def slow_step(self):
        time.sleep(seconds)
        return step(self)

    BatchSampler.step = slow_step  # type: ignore[method-assign]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.remote_bot")
    parser.add_argument("--api", required=True, help="the fake's REST base URL")
    parser.add_argument("--gateway", required=True, help="the fake's gateway URL")
    parser.add_argument("--builtin", required=True, help="built-in models directory")
    parser.add_argument("--processes", type=int, help="as lstm-bot run --processes")
    parser.add_argument(
        "--slow-generation", type=float, default=0.0, help="seconds added to each character"
    )
    args = parser.parse_args(argv)
    if args.processes is not None:
        return launch(args)
    if args.slow_generation:
        slow_generation(args.slow_generation)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

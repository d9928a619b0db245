"""Load benchmark: 50 concurrent /generate interactions through the fake Discord server.

Each asks for 400 characters at temperature 0.5 from a 40-character seed with the default
model. Prints p50/p95 latency from the interaction to its final edit, the slowest
acknowledgement, the event loop's worst stall (a 10 ms ticker measuring its own lateness;
the fake server shares the loop, so this is conservative) and the largest batch the
generation engine stepped.

    .venv/bin/python benchmarks/bot_load.py [--users 50] [--length 400]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import statistics
import tempfile
import time
from pathlib import Path

from bot_harness import builtin_root

from bot.client import LSTMBot
from bot.settings import Settings
from fake_discord import FakeDiscord
from fake_discord.testing import running_bot

SEED = "The will to truth, which is to tempt us "  # 40 characters


async def stall_monitor(stop: asyncio.Event, tick: float = 0.01) -> float:
    worst = 0.0
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        before = loop.time()
        await asyncio.sleep(tick)
        worst = max(worst, loop.time() - before - tick)
    return worst


async def main(users: int, length: int) -> None:
    root = builtin_root()
    data = Path(tempfile.mkdtemp())
    settings = Settings(data_dir=data, generate_cooldown=0, max_length=max(length, 1000))
    async with FakeDiscord(quiet_period=0.05) as fake:
        guild = fake.add_guild("Load")
        people = [fake.add_user(f"user{i}") for i in range(users)]
        for person in people:
            fake.add_member(guild, person)
        bot = LSTMBot(dataclasses.replace(settings), sync_commands=True, builtin_root=root)
        async with running_bot(fake, bot):
            stop = asyncio.Event()
            monitor = asyncio.create_task(stall_monitor(stop))
            started = time.perf_counter()
            interactions = await asyncio.gather(
                *[
                    fake.invoke(
                        guild, p, "generate", {"seed": SEED, "temperature": 0.5, "length": length}
                    )
                    for p in people
                ]
            )
            done = f"{length} characters"
            await asyncio.gather(
                *[
                    ix.wait_content(
                        lambda c: bool(c) and done in c and "writing" not in c, timeout=300
                    )
                    for ix in interactions
                ]
            )
            wall = time.perf_counter() - started
            stop.set()
            worst_stall = await monitor
            engines = list(bot.generation._engines.values())
            peak = max((e.peak_batch for e in engines), default=0)
        latencies = sorted(ix.edits[-1][0] for ix in interactions)
        acks = [ix.acknowledged_after for ix in interactions]
        violations = fake.violations

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(round(p * (len(latencies) - 1))))]

    print(f"{users} concurrent /generate, {length} characters each, temperature 0.5")
    print(f"  completed:            {len(latencies)}/{users} in {wall:.2f} s wall")
    print(
        f"  latency to final edit: p50 {pct(0.5) * 1000:.0f} ms, p95 {pct(0.95) * 1000:.0f} ms,"
        f" max {latencies[-1] * 1000:.0f} ms, mean {statistics.mean(latencies) * 1000:.0f} ms"
    )
    print(f"  slowest acknowledgement: {max(acks) * 1000:.0f} ms (Discord's limit: 3000 ms)")
    print(f"  worst event-loop stall: {worst_stall * 1000:.1f} ms (target < 100 ms)")
    print(f"  largest generation batch: {peak} rows")
    print(f"  Discord rule violations: {len(violations)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--length", type=int, default=400)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(args.users, args.length))

"""Load benchmark: N concurrent /generate interactions through the fake Discord server.

The fake Discord runs in its own process (its own event loop and its own core when there is
one), so what is measured is the bot's work: the bot process runs the real bot and a 10 ms
ticker measuring its event loop's worst stall; the fake's process fires every interaction at
once and times, as Discord would, each acknowledgement (Discord's limit is 3 s) and the final
text (the last edit of each reply).

Each interaction asks for 400 characters at temperature 0.5 from a 40-character seed with the
default model.

    .venv/bin/python benchmarks/bot_load.py [--users 500] [--length 400]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing as mp
import statistics
import tempfile
import time
from pathlib import Path

from bot_harness import builtin_root

SEED = "The will to truth, which is to tempt us "  # 40 characters
ACK_LIMIT = 3.0


# -- the fake Discord's process ---------------------------------------------------------------
def fake_process(conn, users: int, length: int) -> None:
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(_fake_main(conn, users, length))


async def _fake_main(conn, users: int, length: int) -> None:
    from fake_discord import FakeDiscord

    async with FakeDiscord(quiet_period=0.05) as fake:
        guild = fake.add_guild("Load")
        people = [fake.add_user(f"user{i}") for i in range(users)]
        for person in people:
            fake.add_member(guild, person)
        conn.send(fake.address)
        await fake.wait_until(lambda: fake.connected and fake.find_command("generate"), 120)
        await asyncio.to_thread(conn.recv)  # "go": the bot's stall monitor is running
        options = {"seed": SEED, "temperature": 0.5, "length": length}
        done = f"{length} characters"
        finished: set[int] = set()  # ids of @original messages showing their final text
        all_done = asyncio.Event()

        def on_message(action: str, msg) -> None:  # O(1) per edit, however many users
            footer = msg.content.rsplit("\n-# ", 1)[-1]  # the generated text may say "writing"
            if done in footer and "writing…" not in footer:
                finished.add(msg.id)
                if len(finished) == users:
                    all_done.set()

        fake.message_listeners.append(on_message)
        started = time.perf_counter()
        interactions = [await fake.invoke(guild, p, "generate", options) for p in people]
        seen = -1
        while not all_done.is_set() and len(finished) > seen:  # stop after 60 s without news
            seen = len(finished)
            try:
                await asyncio.wait_for(all_done.wait(), 60)
            except TimeoutError:
                pass  # reported as incomplete

        def is_finished(ix) -> bool:
            return ix.original is not None and ix.original.id in finished

        wall = time.perf_counter() - started
        conn.send(
            {
                "wall": wall,
                "acks": [ix.acknowledged_after for ix in interactions],
                "final": [ix.edits[-1][0] for ix in interactions if is_finished(ix)],
                "violations": list(fake.violations),
                "unfinished": [
                    f"{ix.describe()} edits={[(round(t, 2), c[-80:]) for t, c in ix.edits]}"
                    for ix in interactions
                    if not is_finished(ix)
                ][:3],
            }
        )
        await asyncio.to_thread(conn.recv)  # "stop": the bot has closed


# -- the bot's process ---------------------------------------------------------------------------
async def stall_monitor(stop: asyncio.Event, tick: float = 0.01) -> list[tuple[float, float]]:
    """The event loop's worst lateness and when it happened (seconds after the start), and the
    same after the first second (once the burst of interactions has arrived)."""
    worst, later = (0.0, 0.0), (0.0, 0.0)
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not stop.is_set():
        before = loop.time()
        await asyncio.sleep(tick)
        late = (loop.time() - before - tick, before - start)
        worst = max(worst, late)
        if late[1] > 1.0:
            later = max(later, late)
    return [worst, later]


async def main(users: int, length: int) -> None:
    from bot.client import LSTMBot
    from bot.settings import Settings
    from fake_discord.testing import running_bot

    root = builtin_root()
    settings = Settings(
        data_dir=Path(tempfile.mkdtemp()), generate_cooldown=0, max_length=max(length, 1000)
    )
    ctx = mp.get_context("spawn")
    ours, theirs = ctx.Pipe()
    child = ctx.Process(target=fake_process, args=(theirs, users, length), daemon=True)
    child.start()
    try:
        address = await asyncio.to_thread(ours.recv)
        bot = LSTMBot(settings, sync_commands=True, builtin_root=root)
        async with running_bot(address, bot, ready_timeout=60):
            stop = asyncio.Event()
            monitor = asyncio.create_task(stall_monitor(stop))
            ours.send("go")
            result = await asyncio.to_thread(ours.recv)
            stop.set()
            worst_stall = await monitor
            peak = max((e.peak_batch for e in bot.generation.engines()), default=0)
        ours.send("stop")
    finally:
        child.join(30)
        if child.is_alive():
            child.kill()
    report(users, length, result, worst_stall, peak)


def report(users: int, length: int, result: dict, worst_stall: list, peak: int) -> None:
    final = sorted(result["final"])
    acks = sorted(a for a in result["acks"] if a is not None)

    def pct(values: list[float], p: float) -> float:
        return values[min(len(values) - 1, int(round(p * (len(values) - 1))))]

    late = sum(1 for a in acks if a > ACK_LIMIT) + (users - len(acks))
    print(f"{users} concurrent /generate, {length} characters each, temperature 0.5")
    print("  (the fake Discord runs in its own process: these are the bot's figures)")
    print(f"  completed:               {len(final)}/{users} in {result['wall']:.2f} s wall")
    if not final:
        return
    print(
        f"  to the final text:       p50 {pct(final, 0.5):.2f} s, p95 {pct(final, 0.95):.2f} s,"
        f" max {final[-1]:.2f} s, mean {statistics.mean(final):.2f} s"
    )
    print(
        f"  acknowledgement:         p50 {pct(acks, 0.5) * 1000:.0f} ms, p95 "
        f"{pct(acks, 0.95) * 1000:.0f} ms, slowest {acks[-1] * 1000:.0f} ms; "
        f"{late} over Discord's {ACK_LIMIT:.0f} s"
    )
    (worst, when), (later, later_when) = worst_stall
    print(
        f"  worst event-loop stall:  {worst * 1000:.0f} ms, {when:.2f} s after the first "
        f"interaction; after the first second: {later * 1000:.0f} ms at {later_when:.2f} s "
        "(target < 100 ms)"
    )
    print(f"  largest generation batch: {peak} rows")
    print(f"  Discord rule violations: {len(result['violations'])}")
    for v in result["violations"][:5]:
        print(f"    {v}")
    for u in result["unfinished"]:
        print(f"  unfinished: {u}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--length", type=int, default=400)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(args.users, args.length))

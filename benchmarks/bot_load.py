"""Load benchmark: N concurrent /generate interactions through the fake Discord server.

The fake Discord runs in its own process (its own event loop and its own core when there is
one), so what is measured is the bot's work: the bot process runs the real bot and a 10 ms
ticker measuring its event loop's worst stall; the fake's process fires every interaction at
once and times, as Discord would, each acknowledgement (Discord's limit is 3 s) and the final
text (the last edit of each reply).

Each interaction asks for 400 characters at temperature 0.5 from a 40-character seed with the
default model.

``--processes P [P ...]`` runs the bot as P shard processes (one shard each, on one SQLite
file; the users spread over one server per shard), once for each P given: each process reports
its own stall, RSS and CPU seconds during the load (and those of its event loop's thread),
and with P >= 2 the time for a model deleted through one process to have
its engine closed in another is measured too.

``--one-channel`` puts every user in one channel (by default each has a channel of its own,
up to 500 per server); ``--faults RATE`` makes that fraction of REST calls fail (500, 502,
503, slow, reset). Discord's rate limits are on: the 429s and invalid requests are counted.

    .venv/bin/python benchmarks/bot_load.py [--users 500] [--length 400] [--processes 1 2]
        [--one-channel] [--faults 0.05]
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

from bot_harness import builtin_root, rss_mb

SEED = "The will to truth, which is to tempt us "  # 40 characters
ACK_LIMIT = 3.0


# -- the fake Discord's process ---------------------------------------------------------------
def fake_process(conn, users: int, length: int, shards: int = 1, where: tuple = (False, 0.0)):
    logging.basicConfig(level=logging.ERROR)  # (each rule broken is counted below)
    asyncio.run(_fake_main(conn, users, length, shards, *where))


MAX_CHANNELS = 500  # Discord's limit per server


async def _fake_main(
    conn, users: int, length: int, shards: int, one_channel: bool, faults: float
) -> None:
    from fake_discord import FakeDiscord

    async with FakeDiscord(quiet_period=0.05, faults=faults) as fake:
        fake.sharding.recommended, fake.sharding.max_concurrency = shards, shards
        per_guild = 1 if one_channel else min(MAX_CHANNELS, -(-users // shards))
        names = tuple(f"c{j}" for j in range(per_guild))
        guilds = [
            fake.add_guild(f"Load {i}", shard=(i, shards), channels=names) for i in range(shards)
        ]
        people = [fake.add_user(f"user{i}") for i in range(users)]
        homes = [guilds[i % shards] for i in range(users)]
        places = [list(g.channels.values())[(i // shards) % per_guild] for i, g in enumerate(homes)]
        for person, guild in zip(people, homes, strict=True):
            fake.add_member(guild, person)
        conn.send((fake.address, [g.id for g in guilds]))

        def all_in() -> bool:
            ready = sum(1 for s in fake._sessions if s.ready)
            return ready == shards and fake.find_command("generate") is not None

        await fake.wait_until(all_in, 120)
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
        started, cpu_started = time.perf_counter(), time.process_time()
        interactions = [
            await fake.invoke(g, p, "generate", options, channel=c)
            for p, g, c in zip(people, homes, places, strict=True)
        ]
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
                "fake_cpu": time.process_time() - cpu_started,
                "acks": [ix.acknowledged_after for ix in interactions],
                "final": [ix.edits[-1][0] for ix in interactions if is_finished(ix)],
                "violations": list(fake.violations),
                "429s": fake.limits.limited + fake.limits.global_limited,
                "invalid": fake.limits.invalid_count,
                "faults": dict(fake.faults.counts),
                "channels": len({c.id for c in places}),
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


def bot_process(conn, address, data_dir: Path, root: Path, shards: int, shard: int, length: int):
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(_bot_main(conn, address, data_dir, root, shards, shard, length))


async def _bot_main(conn, address, data_dir, root, shards: int, shard: int, length: int) -> None:
    from bot.client import LSTMBot
    from bot.settings import Settings
    from fake_discord.testing import running_bot

    settings = Settings(
        data_dir=data_dir,
        generate_cooldown=0,
        max_length=max(length, 1000),
        shard_count=shards,
        shard_ids=str(shard),
    )
    bot = LSTMBot(settings, sync_commands=shard == 0, builtin_root=root)
    async with running_bot(address, bot, ready_timeout=120):
        conn.send("ready")
        await asyncio.to_thread(conn.recv)  # "go"
        stop = asyncio.Event()
        cpu, loop_cpu = time.process_time(), time.thread_time()  # (this is the loop's thread)
        monitor = asyncio.create_task(stall_monitor(stop))
        await asyncio.to_thread(conn.recv)  # "done"
        stop.set()
        worst_stall = await monitor
        cpu, loop_cpu = time.process_time() - cpu, time.thread_time() - loop_cpu
        peak = max((e.peak_batch for e in bot.generation.engines()), default=0)
        figures = {"stall": worst_stall, "peak": peak, "rss": rss_mb()}
        conn.send(figures | {"cpu": cpu, "loop_cpu": loop_cpu})
        while (order := await asyncio.to_thread(conn.recv)) != "stop":
            conn.send(await propagation_step(bot, *order))


async def propagation_step(bot, step: str, guild_id: int) -> object:
    """The delete-propagation figure: "add" (a copy of the default model, in this process's
    server), "load" (its engine, in another process), "delete" (as /model delete does; the
    time), "wait" (until the engine here is closed; the time)."""
    import dataclasses

    from model_store import ModelStore, load_artifact

    if step == "add":
        default = await bot.registry.get(None, bot.settings.default_model)
        artifact = load_artifact(Path(default.path), default.name)
        store = ModelStore(bot.settings.guild_model_path / str(guild_id))
        path = store.save(dataclasses.replace(artifact, name="gone"))
        record = await bot.registry.add(
            name="gone", guild_id=guild_id, owner_id=1, card=artifact.card, path=str(path)
        )
        return record.id
    record = await bot.registry.get(guild_id, "gone")
    if step == "load":
        await bot.generation.engine(record.path, record.checksum, record.name)
        return record.path
    if step == "delete":  # what /model delete's confirmation does
        started = time.time()
        await bot.get_cog("Models").deletion.delete(record)
        return started
    path = step.split(":", 1)[1]  # "wait:PATH"
    while path in bot.generation.loaded_paths():
        await asyncio.sleep(0.005)
    return time.time()


async def main(
    users: int, length: int, processes: int, one_channel: bool = False, faults: float = 0.0
) -> dict:
    root = builtin_root()
    data_dir = Path(tempfile.mkdtemp())
    ctx = mp.get_context("spawn")
    ours, theirs = ctx.Pipe()
    args = (theirs, users, length, processes, (one_channel, faults))
    child = ctx.Process(target=fake_process, args=args, daemon=True)
    child.start()
    bots: list = []
    try:
        address, guild_ids = await asyncio.to_thread(ours.recv)
        for shard in range(processes):
            mine, its = ctx.Pipe()
            args = (its, address, data_dir, root, processes, shard, length)
            proc = ctx.Process(target=bot_process, args=args, daemon=True)
            proc.start()
            bots.append((proc, mine))
            assert await asyncio.to_thread(mine.recv) == "ready"  # one after the other
        for _, pipe in bots:
            pipe.send("go")
        ours.send("go")
        result = await asyncio.to_thread(ours.recv)
        for _, pipe in bots:
            pipe.send("done")
        result["bots"] = [await asyncio.to_thread(pipe.recv) for _, pipe in bots]
        if processes >= 2:
            result["propagation"] = await propagation(bots[0][1], bots[1][1], guild_ids[1])
        for _, pipe in bots:
            pipe.send("stop")
        stop_bots(bots)  # before the fake Discord: else a bot sees it gone and reconnects
        ours.send("stop")
    finally:
        stop_bots(bots)
        child.join(30)
        if child.is_alive():
            child.kill()
    return result


def stop_bots(bots: list) -> None:
    for proc, _ in bots:
        proc.join(30)
        if proc.is_alive():
            proc.kill()


async def propagation(watcher, deleter, guild_id: int) -> float:
    """Seconds from a delete through ``deleter`` to the engine closed in ``watcher``."""

    async def ask(pipe, *order: object) -> object:
        pipe.send(order)
        return await asyncio.to_thread(pipe.recv)

    await ask(deleter, "add", guild_id)
    path = await ask(watcher, "load", guild_id)
    watcher.send((f"wait:{path}", guild_id))
    await asyncio.sleep(0.5)  # the watcher is polling
    deleted = await ask(deleter, "delete", guild_id)
    closed = await asyncio.to_thread(watcher.recv)
    return float(closed) - float(deleted)


def report(users: int, length: int, processes: int, result: dict) -> None:
    final = sorted(result["final"])
    acks = sorted(a for a in result["acks"] if a is not None)

    def pct(values: list[float], p: float) -> float:
        return values[min(len(values) - 1, int(round(p * (len(values) - 1))))]

    late = sum(1 for a in acks if a > ACK_LIMIT) + (users - len(acks))
    print(
        f"{users} concurrent /generate, {length} characters each, temperature 0.5, "
        f"{processes} bot process(es)"
    )
    print(
        f"  in {result['channels']} channel(s); Discord's rate limits on; REST faults: "
        + (", ".join(f"{n} {k}" for k, n in sorted(result["faults"].items())) or "none")
    )
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
    for i, figures in enumerate(result["bots"]):
        (worst, when), (later, later_when) = figures["stall"]
        print(
            f"  process {i}: worst event-loop stall {worst * 1000:.0f} ms, {when:.2f} s after "
            f"the first interaction; after the first second: {later * 1000:.0f} ms at "
            f"{later_when:.2f} s (target < 100 ms); RSS {figures['rss']:.0f} MB; largest "
            f"generation batch {figures['peak']} rows"
        )
        print(
            f"    CPU during the load: {figures['cpu']:.2f} s, of which the event loop's thread "
            f"{figures['loop_cpu']:.2f} s (the rest: generation and helper threads)"
        )
    cpu = result["fake_cpu"] + sum(f["cpu"] for f in result["bots"])
    print(
        f"  the fake Discord's CPU during the load: {result['fake_cpu']:.2f} s; all processes "
        f"{cpu:.2f} s, {cpu / result['wall']:.2f} cores over the wall time"
    )
    if "propagation" in result:
        print(
            "  a model deleted through process 1 had its engine closed in process 0 after "
            f"{result['propagation'] * 1000:.0f} ms"
        )
    print(f"  429 answers: {result['429s']}; invalid requests (401/403/429): {result['invalid']}")
    print(f"  Discord rule violations: {len(result['violations'])}")
    for v in result["violations"][:5]:
        print(f"    {v}")
    for u in result["unfinished"]:
        print(f"  unfinished: {u}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--length", type=int, default=400)
    parser.add_argument(
        "--processes", type=int, nargs="+", default=[1], help="bot processes (one run each)"
    )
    parser.add_argument(
        "--one-channel", action="store_true", help="all users in one channel (default: spread)"
    )
    parser.add_argument(
        "--faults", type=float, default=0.0, help="fraction of REST calls that meet a fault"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for count in args.processes:
        figures = asyncio.run(main(args.users, args.length, count, args.one_channel, args.faults))
        report(args.users, args.length, count, figures)

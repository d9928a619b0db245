"""Soak test: users generating, pressing buttons, continuing messages and training (a real
worker) against a faulty, rate-limited fake Discord whose gateway drops now and then.

The fake Discord runs in this process and plays the users; the bot runs in a process of its
own (its log in the data directory), the worker in another. After ``--minutes`` the users
stop, everything in flight is given time to end (``--drain`` seconds at most), and one line
is printed per check:

- interactions sent / acknowledged within 3 s / answered (a final reply, or an error said)
- replies left unfinished (a reply still "writing…", or a deferral never answered): 0
- job results posted once each (every queued job's result, exactly once)
- 429 answers and invalid requests (401/403/429): far below Discord's limit
- Discord rule violations other than those, and errors in the bot's log: 0

It exits with status 1 when a check fails.

    .venv/bin/python benchmarks/soak.py --minutes 3 --faults 0.05 --gateway-drop-every 20
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing as mp
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot_harness import builtin_root

from worker.process import clean_env

ROOT = Path(__file__).resolve().parents[1]
WORDS = (
    "the will to truth which is to tempt us many a venture in which we shall "
    "hear of it speak with respect great question posed itself before"
).split()


# -- the bot's process ----------------------------------------------------------------------
def bot_process(conn, address, data_dir: Path, root: Path) -> None:
    logging.basicConfig(
        filename=data_dir / "bot.log",
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("discord").setLevel(logging.WARNING)
    asyncio.run(_bot_main(conn, address, data_dir, root))


async def _bot_main(conn, address, data_dir: Path, root: Path) -> None:
    from bot.client import LSTMBot
    from bot.settings import Settings
    from fake_discord.testing import running_bot

    settings = Settings(
        data_dir=data_dir, generate_cooldown=0, min_corpus_chars=2000, poll_seconds=0.5
    )
    bot = LSTMBot(settings, sync_commands=True, builtin_root=root)
    async with running_bot(address, bot, ready_timeout=120):
        conn.send("ready")
        await asyncio.to_thread(conn.recv)  # "stop"
        conn.send({"429s": bot.pacing.rate_limited, "invalid": bot.pacing.invalid_requests})


def start_worker(data_dir: Path) -> subprocess.Popen:
    env = clean_env()
    env.update(
        PYTHONPATH=str(ROOT),
        LSTM_BOT_DATA_DIR=str(data_dir),
        LSTM_BOT_POLL_SECONDS="0.5",
        TF_CPP_MIN_LOG_LEVEL="2",
        TF_NUM_INTRAOP_THREADS="1",
        TF_NUM_INTEROP_THREADS="1",
    )
    from worker import process

    args = ("--worker-id", "soak", "--progress-seconds", "1")
    return process.start_worker(env, data_dir / "worker.log", *args)


# -- the users --------------------------------------------------------------------------------
class Soak:
    def __init__(self, fake, rng: random.Random, trainings: int):
        self.fake, self.rng = fake, rng
        self.trainings_left = trainings
        self.interactions: list = []
        self.jobs: dict[str, object] = {}  # model name -> the /train interaction
        self.skipped_presses = 0
        self.drops = 0

    def text(self, words: int) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(words))

    async def user(self, guild, person, end: float) -> None:
        from cogs.writing.generate import CONTINUE_THIS_TEXT

        fake, rng = self.fake, self.rng
        channels = list(guild.channels.values())
        mine: list = []  # this user's replies with buttons
        while time.monotonic() < end:
            channel, roll = rng.choice(channels), rng.random()
            try:
                if roll < 0.4 or not mine:
                    options = {
                        "seed": self.text(3),
                        "temperature": rng.choice([0.5, 0.8, 1.0]),
                        "length": rng.randrange(100, 500, 50),
                    }
                    ix = await fake.invoke(guild, person, "generate", options, channel=channel)
                    mine.append(ix)
                elif roll < 0.75:
                    ix = await self.press(rng.choice(mine), person)
                elif roll < 0.93 or not self.trainings_left:
                    message = await fake.send_message(channel, person, self.text(12))
                    ix = await fake.invoke_message_command(
                        guild, person, CONTINUE_THIS_TEXT, message
                    )
                else:
                    ix = await self.train(guild, person, channel)
            except RuntimeError:  # no bot connected at all (a reconnect that takes long)
                ix = None
            if ix is not None:
                self.interactions.append(ix)
            await asyncio.sleep(rng.uniform(1.0, 4.0))

    async def press(self, earlier, person):
        message = earlier.original
        if message is None or message.deleted or not message.custom_ids():
            self.skipped_presses += 1  # still being written, or its buttons went on
            return None
        ids = message.custom_ids()
        try:
            return await self.fake.click(message, person, self.rng.choice(ids))
        except (LookupError, ValueError):
            self.skipped_presses += 1
            return None

    async def train(self, guild, person, channel):
        self.trainings_left -= 1
        name = f"soak{len(self.jobs) + 1}"
        data = self.text(700).encode()
        upload = self.fake.add_attachment(f"{name}.txt", data)
        options = {"file": upload, "name": name, "effort": "quick"}
        ix = await self.fake.invoke(guild, person, "train", options, channel=channel)
        self.jobs[name] = ix
        return ix

    async def drop_gateway(self, every: float, end: float) -> None:
        while time.monotonic() + every < end:
            await asyncio.sleep(every)
            if self.drops % 2 == 0:
                await self.fake.disconnect_bots(4000)
            else:
                await self.fake.request_reconnect()
            self.drops += 1

    # -- checks -----------------------------------------------------------------------------
    def unfinished(self) -> list[str]:
        bad = []
        for msg in self.fake.messages.values():
            if msg.author is not self.fake.bot_user or msg.deleted:
                continue
            footer = msg.content.rsplit("\n-# ", 1)[-1]
            if msg.loading or "writing…" in footer:
                bad.append(f"message {msg.id}: {msg.content[-80:]!r}")
        return bad

    def results(self, name: str) -> int:
        return sum(
            1
            for msg in self.fake.messages.values()
            if not msg.deleted
            and msg.embeds
            and f"`{name}`" in (msg.embeds[0].get("title") or "")
            and "Training" not in (msg.embeds[0].get("title") or "")
        )

    def settled(self) -> bool:
        jobs_done = all(
            self.results(name) >= 1 or "Queued job" not in (ix.content or "")
            for name, ix in self.jobs.items()
        )
        return jobs_done and all(ix.done for ix in self.interactions) and not self.unfinished()


async def run(args: argparse.Namespace) -> int:
    from fake_discord import FakeDiscord

    rng = random.Random(args.seed)
    data_dir = Path(tempfile.mkdtemp(prefix="soak-"))
    root = builtin_root()
    ctx = mp.get_context("spawn")
    worker = None
    async with FakeDiscord(quiet_period=0.05, faults=args.faults) as fake:
        fake.faults.seed = args.seed
        guilds = [fake.add_guild(f"Soak {i}", channels=("a", "b")) for i in range(2)]
        people = []
        for i in range(args.users):
            person = fake.add_user(f"user{i}")
            fake.add_member(guilds[i % 2], person)
            people.append((guilds[i % 2], person))
        ours, theirs = ctx.Pipe()
        child = ctx.Process(target=bot_process, args=(theirs, fake.address, data_dir, root))
        child.start()
        if args.trainings:
            worker = start_worker(data_dir)
        try:
            while not await asyncio.to_thread(ours.poll, 0.2):
                if not child.is_alive():
                    raise RuntimeError(f"the bot did not start; see {data_dir / 'bot.log'}")
            ours.recv()
            await fake.wait_until(lambda: fake.find_command("generate") is not None, 60)
            soak = Soak(fake, rng, args.trainings)
            end = time.monotonic() + args.minutes * 60
            tasks = [asyncio.create_task(soak.user(g, p, end)) for g, p in people]
            if args.gateway_drop_every:
                tasks.append(asyncio.create_task(soak.drop_gateway(args.gateway_drop_every, end)))
            await asyncio.gather(*tasks)
            try:
                await fake.wait_until(soak.settled, args.drain)
            except TimeoutError:
                pass  # reported by the checks
            ours.send("stop")
            bot_figures = await asyncio.to_thread(ours.recv)
        finally:
            child.join(60)
            if child.is_alive():
                child.kill()
            if worker is not None and worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(30)
                except subprocess.TimeoutExpired:
                    worker.kill()
        return report(args, soak, fake, bot_figures, data_dir)


def report(args, soak: Soak, fake, bot_figures: dict, data_dir: Path) -> int:
    ok = True

    def check(name: str, passed: bool, detail: str) -> None:
        nonlocal ok
        ok = ok and passed
        print(f"{'PASS' if passed else 'FAIL'}  {name:<34} {detail}")

    ixs = soak.interactions
    sent = len(ixs)
    acked = sum(1 for ix in ixs if ix.acked and not ix.ack_violation)
    answered = sum(1 for ix in ixs if ix.done)
    faults = ", ".join(f"{n} {k}" for k, n in sorted(fake.faults.counts.items())) or "none"
    print(
        f"soak: {args.minutes:g} min, {args.users} users, faults {args.faults:g} ({faults}), "
        f"{soak.drops} gateway drops/reconnects, {len(fake.requests)} HTTP requests"
    )
    check("interactions acknowledged", acked == sent, f"{acked}/{sent} within 3 s")
    check("interactions answered", answered == sent, f"{answered}/{sent}")
    unfinished = soak.unfinished()
    check("replies left unfinished", not unfinished, f"{len(unfinished)} {unfinished[:2]}")
    counts = {name: soak.results(name) for name in soak.jobs}
    queued = {n for n, ix in soak.jobs.items() if "Queued job" in (ix.content or "")}
    once = all(counts[n] == 1 for n in queued) and all(c <= 1 for c in counts.values())
    check("job results posted once each", once, f"{counts} ({len(queued)} queued)")
    limited = fake.limits.limited + fake.limits.global_limited
    check(
        "429 answers",
        limited <= max(1, sent // 100),
        f"{limited} (the bot saw {bot_figures['429s']})",
    )
    invalid = fake.limits.invalid_count
    check(
        "invalid requests (401/403/429)",
        invalid < 100,
        f"{invalid} (Discord's limit: 10,000 in 10 min)",
    )
    others = [v for v in fake.violations if not v.startswith(("rate_limited", "ack_timeout"))]
    check("other Discord rule violations", not others, f"{len(others)} {others[:2]}")
    log = (data_dir / "bot.log").read_text(errors="replace").splitlines()
    errors = [line for line in log if " ERROR " in line or " CRITICAL " in line]
    check("errors in the bot's log", not errors, f"{len(errors)} {errors[:2]} ({data_dir})")
    print(f"(button presses skipped: {soak.skipped_presses}; logs in {data_dir})")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--faults", type=float, default=0.05, help="fraction of REST calls")
    parser.add_argument("--gateway-drop-every", type=float, default=20.0, help="seconds (0: never)")
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument(
        "--trainings", type=int, default=2, help="/train runs at most (0: no worker)"
    )
    parser.add_argument("--drain", type=float, default=240.0, help="seconds to let work end")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())

"""Several machines: the bot and two workers as separate processes, each with its own data
directory, sharing only the PostgreSQL URL; Discord is the in-repo fake in the test's process.

One test plays the story in order (processes cost seconds to start): a /train is trained by a
worker, imported by the bot, announced once and used by /generate; a worker is killed with
``kill -9`` mid-epoch and the other takes the job over after its last stored checkpoint; /job
cancel reaches a running remote worker; the bot restarted mid-job announces the result once.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from fake_discord import FakeDiscord, FakeGuild, FakeUser
from jobs.postgres import PostgresQueue
from worker.process import clean_env

from ..jobs.procs import SLOW_TRAIN, TINY_NETWORK, wait_exit, wait_for
from ..textgen import make_text

ROOT = Path(__file__).resolve().parents[2]
# The bot adds these to every job's params: short sequences in small batches and short samples
# (and a tiny network for a model trained from scratch). The efforts' step budgets stay; each
# step costs little: an epoch of "normal" lasts about a second or two.
JOB_PARAMS = {"network": TINY_NETWORK, "train": SLOW_TRAIN}


class Machines:
    """Processes on their own data directories, and what the test may look at: the queue's
    database (as an operator would) and the bot's registry file."""

    def __init__(self, tmp_path: Path, pg_url: str, fake: FakeDiscord, builtin: Path):
        self.root, self.url, self.fake, self.builtin = tmp_path, pg_url, fake, builtin
        self.procs: dict[str, subprocess.Popen] = {}
        self.queue: PostgresQueue

    def env(self, name: str) -> dict[str, str]:
        env = clean_env()
        env.update(
            PYTHONPATH=str(ROOT),
            LSTM_BOT_QUEUE_URL=self.url,
            LSTM_BOT_DATA_DIR=str(self.root / name),
            LSTM_BOT_POLL_SECONDS="0.2",
            LSTM_BOT_LEASE_SECONDS="4",
            LSTM_BOT_CHECKPOINT_SECONDS="0",
            LSTM_BOT_MIN_CORPUS_CHARS="2000",
            LSTM_BOT_DEFAULT_MODEL="basic",
            LSTM_BOT_GENERATE_COOLDOWN="0",
            TF_CPP_MIN_LOG_LEVEL="2",
            TF_NUM_INTRAOP_THREADS="1",
            TF_NUM_INTEROP_THREADS="1",
        )
        return env

    def start(self, name: str, *args: str) -> subprocess.Popen:
        with open(self.root / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", *args],
                cwd=self.root,
                env=self.env("bot" if name.startswith("bot") else name),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.procs[name] = proc
        return proc

    async def start_bot(self, name: str) -> subprocess.Popen:
        proc = self.start(
            name,
            "tests.remote_bot",
            "--api",
            self.fake.api_url,
            "--gateway",
            self.fake.ws_url,
            "--builtin",
            str(self.builtin),
            "--job-params",
            json.dumps(JOB_PARAMS),
        )
        await self.fake.wait_connected(timeout=60)
        await self.fake.wait_until(lambda: self.fake.find_command("train") is not None, 30)
        return proc

    def start_worker(self, name: str) -> subprocess.Popen:
        return self.start(name, "worker", "--worker-id", name, "--progress-seconds", "0.3")

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text(errors="replace")

    def models(self, name: str) -> list[tuple]:
        with sqlite3.connect(self.root / "bot" / "lstm-bot.sqlite3") as conn:
            return conn.execute(
                "SELECT name, job_id, path FROM models WHERE name = ?", (name,)
            ).fetchall()

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def results(fake: FakeDiscord, guild: FakeGuild, name: str) -> list:
    return [
        m
        for m in fake.channel_messages(guild.default_channel)
        if m.embeds and m.embeds[0].get("title") == f"✅ `{name}` is trained"
    ]


def progress_messages(fake: FakeDiscord, guild: FakeGuild, name: str) -> list:
    return [
        m
        for m in fake.channel_messages(guild.default_channel)
        if m.embeds and f"Training `{name}`" in (m.embeds[0].get("title") or "")
    ]


async def train(
    fake: FakeDiscord, guild: FakeGuild, user: FakeUser, name: str, chars: int, effort: str
) -> int:
    text = make_text(chars, seed=len(name))
    ix = await fake.invoke(
        guild,
        user,
        "train",
        {"file": fake.add_attachment(f"{name}.txt", text.encode()), "name": name, "effort": effort},
    )
    await ix.wait_content(lambda c: c and "Queued job #" in c, timeout=30)
    return int(ix.content.split("Queued job #", 1)[1].split(":", 1)[0])


@pytest.fixture
async def machines(tmp_path, pg_url, builtin_dir):
    async with FakeDiscord(quiet_period=0.05) as fake:
        cluster = Machines(tmp_path, pg_url, fake, builtin_dir)
        cluster.queue = await PostgresQueue.connect(pg_url)
        try:
            yield cluster
        finally:
            cluster.stop_all()
            await cluster.queue.close()
        fake.assert_no_violations()


async def test_bot_and_two_workers_share_only_the_database(machines: Machines) -> None:
    fake, queue = machines.fake, machines.queue
    guild, alice = fake.add_guild("Guild A"), fake.add_user("alice")
    fake.add_member(guild, alice)
    workers = {name: machines.start_worker(name) for name in ("w1", "w2")}
    await machines.start_bot("bot")

    # 1. Trained by a worker, imported by the bot, announced once, usable at once.
    first = await train(fake, guild, alice, "first", 20_000, "quick")
    await fake.wait_for_message(
        guild.default_channel, lambda m: bool(results(fake, guild, "first")), timeout=120
    )
    gen = await fake.invoke(
        guild,
        alice,
        "generate",
        {"seed": "The ", "model": "first", "length": 40, "temperature": 0.5},
    )
    await gen.wait_content(lambda c: c and "40 characters" in c, timeout=30)
    ((_, job_id, path),) = machines.models("first")
    assert job_id == first and Path(path).is_relative_to(machines.root / "bot")
    for name in workers:  # nothing of the model on the workers' machines
        assert not (machines.root / name / "guild-models").exists()

    # 2. kill -9 mid-epoch: the other worker takes over after the last stored checkpoint.
    second = await train(fake, guild, alice, "second", 100_000, "normal")

    async def mid_epoch_after_a_checkpoint() -> bool:
        job = await queue.get(second)
        events = await queue.events_after(second, 0, 1000)
        later = [
            e for e in events if e.kind == "progress" and e.payload["epoch"] > job.checkpoint_epoch
        ]
        return job.checkpoint_epoch >= 1 and bool(later)

    await wait_for(mid_epoch_after_a_checkpoint, 120, "a checkpoint, then the next epoch")
    started = [e.payload for e in await queue.events_after(second, 0, 1000) if e.kind == "started"]
    victim = started[-1]["worker"]
    os.kill(workers[victim].pid, signal.SIGKILL)
    workers[victim].wait()
    stored = (await queue.get(second)).checkpoint_epoch
    survivor = next(name for name in workers if name != victim)
    await fake.wait_for_message(
        guild.default_channel, lambda m: bool(results(fake, guild, "second")), timeout=180
    )
    events = await queue.events_after(second, 0, 1000)
    starts = [e.payload for e in events if e.kind == "started"]
    assert [s["worker"] for s in starts] == [victim, survivor]
    assert starts[1]["resumed_from_epoch"] == stored >= 1
    assert len(machines.models("second")) == 1
    assert len(results(fake, guild, "second")) == 1

    # 3. /job cancel reaches the running remote worker within seconds.
    third = await train(fake, guild, alice, "third", 600_000, "thorough")

    async def running() -> bool:
        events = await queue.events_after(third, 0, 1000)
        return any(e.kind == "progress" for e in events)

    await wait_for(running, 60, "the third job to train")
    cancel = await fake.invoke(guild, alice, "job cancel", {"id": third})
    await cancel.wait_done(timeout=10)
    assert "Stopping job" in cancel.content

    async def cancelled() -> bool:
        return (await queue.get(third)).status == "cancelled"

    await wait_for(cancelled, 10, "the remote worker to stop the job")

    # 4. The bot restarted mid-job still announces the result once.
    fourth = await train(fake, guild, alice, "fourth", 100_000, "normal")
    await fake.wait_for_message(
        guild.default_channel, lambda m: bool(progress_messages(fake, guild, "fourth")), timeout=60
    )
    machines.procs["bot"].send_signal(signal.SIGTERM)
    assert await wait_exit(machines.procs["bot"], 30) == 0, machines.log("bot")
    assert (await queue.get(fourth)).status in {"queued", "running"}  # mid-job
    await machines.start_bot("bot2")
    await fake.wait_for_message(
        guild.default_channel, lambda m: bool(results(fake, guild, "fourth")), timeout=180
    )
    assert len(results(fake, guild, "fourth")) == 1
    (progress,) = progress_messages(fake, guild, "fourth")  # edited, never posted again
    assert "Done" in progress.embeds[0]["description"]
    assert len(machines.models("fourth")) == 1

    # The database password is in no log, and nothing else leaked.
    password = machines.url.split(":")[2].split("@")[0]
    for name in ("bot", "bot2", "w1", "w2"):
        assert password not in machines.log(name), name
    assert (
        json.dumps([m.embeds for m in fake.channel_messages(guild.default_channel)]).count(password)
        == 0
    )

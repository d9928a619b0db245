"""Bot processes on several "machines" sharing one PostgreSQL database (the bot's state, the
job queue and the model files as blobs), each with its own data and cache folders, and one
worker: the PostgreSQL variant of test_shard_processes.py.

One story, in order (processes cost seconds to start): servers on both shards are served,
each by the process holding its shard (commands and buttons); a ``/train`` in shard 1's server
is imported and announced once, by that process; ``kill -9`` of that process leaves its server
unanswered while the other keeps serving, and shard 1 started again on another machine (new
data and cache folders) catches up on the job report it missed and generates both models,
fetched from the blobs. A default chosen and a model deleted through that process are what
shard 1's first machine sees when it serves it again: its cached copy of the deleted model is
swept at its start, the new default fetched on first use.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from fake_discord import FakeDiscord, FakeGuild, FakeUser
from jobs.postgres import PostgresQueue
from worker.process import clean_env

from ..jobs.procs import wait_exit
from .helpers import answered, reply
from .test_machines import results, train
from .test_models import _custom_id, confirmed
from .test_shard_processes import _ready_shards

ROOT = Path(__file__).resolve().parents[2]


class Cluster:
    """The processes, each named after its machine (``m0``, ``m1``... and ``worker``)."""

    def __init__(self, root: Path, url: str, fake: FakeDiscord, builtin: Path):
        self.root, self.url, self.fake, self.builtin = root, url, fake, builtin
        self.procs: dict[str, subprocess.Popen] = {}

    def env(self, machine: str, **more: str) -> dict[str, str]:
        env = clean_env()
        env.update(
            PYTHONPATH=str(ROOT),
            LSTM_BOT_QUEUE_URL=self.url,
            LSTM_BOT_DATA_DIR=str(self.root / machine),
            LSTM_BOT_MODEL_CACHE=str(self.root / machine / "cache"),
            LSTM_BOT_DEFAULT_MODEL="basic",
            LSTM_BOT_GENERATE_COOLDOWN="0",
            LSTM_BOT_POLL_SECONDS="0.2",
            LSTM_BOT_LEASE_SECONDS="4",
            LSTM_BOT_MIN_CORPUS_CHARS="2000",
            TF_CPP_MIN_LOG_LEVEL="2",
            TF_NUM_INTRAOP_THREADS="1",
            TF_NUM_INTEROP_THREADS="1",
        )
        return env | more

    def start(self, name: str, machine: str, *args: str, **env: str) -> subprocess.Popen:
        with open(self.root / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", *args],
                cwd=self.root,
                env=self.env(machine, **env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.procs[name] = proc
        return proc

    def start_bot(self, name: str, machine: str, shard: int) -> subprocess.Popen:
        args = ["--api", self.fake.api_url, "--gateway", self.fake.ws_url]
        args += ["--builtin", str(self.builtin)]
        shards = {"LSTM_BOT_SHARD_COUNT": "2", "LSTM_BOT_SHARD_IDS": str(shard)}
        state = {"LSTM_BOT_DATABASE_URL": self.url}  # the bot's; a worker has no such setting
        return self.start(name, machine, "tests.remote_bot", *args, **shards, **state)

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text(errors="replace")

    async def stop(self, name: str) -> None:
        proc = self.procs[name]
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await wait_exit(proc, 30)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()


async def _generate(fake: FakeDiscord, guild: FakeGuild, user: FakeUser, model: str | None = None):
    options = {"seed": "The ", "temperature": 0.5, "length": 40}
    ix = await fake.invoke(guild, user, "generate", options | ({"model": model} if model else {}))
    await ix.wait_content(lambda c: c and "characters" in c and "writing" not in c, 60)
    return ix


def _cached(machine: Path, name: str) -> list[Path]:
    """This machine's cached copies of the model ``name`` (folders ``<guild>/<name>-j...``)."""
    return sorted((machine / "cache").glob(f"*/{name}-j*"))


@pytest.fixture
async def cluster(tmp_path: Path, pg_state_url: str, builtin_dir: Path):
    async with FakeDiscord(quiet_period=0.05, ack_timeout=1.0) as fake:
        fake.sharding.recommended, fake.sharding.max_concurrency = 2, 2
        machines = Cluster(tmp_path, pg_state_url, fake, builtin_dir)
        try:
            yield machines
        finally:
            for name in list(machines.procs):
                await machines.stop(name)
        fake.assert_no_violations()


@pytest.mark.slow  # bot and worker processes
async def test_bot_processes_on_several_machines_share_postgresql(cluster: Cluster) -> None:
    fake, root = cluster.fake, cluster.root
    g0, g1 = fake.add_guild("zero", shard=(0, 2)), fake.add_guild("one", shard=(1, 2))
    alice = fake.add_user("alice")
    for guild in (g0, g1):
        fake.add_member(guild, alice)
    cluster.start_bot("bot0", "m0", 0)
    cluster.start_bot("bot1", "m1", 1)
    await fake.wait_until(
        lambda: _ready_shards(fake) == [[0, 2], [1, 2]] and fake.find_command("generate"), 90
    )

    # 1. Each server is served by its shard's process: commands and buttons.
    replies = [await _generate(fake, guild, alice) for guild in (g0, g1)]
    assert all(ix.content.startswith("**The **") for ix in replies)
    for ix in replies:
        again = await fake.click(ix, alice, _custom_id(ix, "Regenerate"))
        await again.wait_done(timeout=30)
        assert again.acked and not again.ack_violation

    # 2. A /train in shard 1's server: imported and announced once, by that process.
    cluster.start("worker", "w", "worker", "--worker-id", "w", "--progress-seconds", "0.3")
    first = await train(fake, g1, alice, "shared", 3000, "quick")
    await fake.wait_until(lambda: bool(results(fake, g1, "shared")), 180)
    assert (await _generate(fake, g1, alice, "shared")).content.startswith("**The **")
    assert f"job {first}: imported" in cluster.log("bot1")
    assert f"job {first}: imported" not in cluster.log("bot0")
    assert len(_cached(root / "m1", "shared")) == 1 and _cached(root / "m0", "shared") == []

    # 3. kill -9 shard 1's process with a job in flight: its server goes unanswered, the
    # other keeps serving.
    queue = await PostgresQueue.connect(cluster.url)
    try:
        missed = await train(fake, g1, alice, "missed", 3000, "quick")
        os.kill(cluster.procs["bot1"].pid, signal.SIGKILL)
        cluster.procs["bot1"].wait()
        await fake.wait_until(lambda: _ready_shards(fake) == [[0, 2]], 30)
        unanswered = await fake.invoke(g1, alice, "generate", {"seed": "Hi", "temperature": 0.5})
        assert (await _generate(fake, g0, alice)).content.startswith("**The **")
        await fake.wait_until(lambda: unanswered.ack_violation, 10)
        assert not unanswered.acked
        assert [v.split(":")[0] for v in fake.take_violations()] == ["ack_timeout"]
        for _ in range(600):
            if (await queue.get(missed)).status == "succeeded":
                break
            await asyncio.sleep(0.3)
        assert (await queue.get(missed)).status == "succeeded"
        await asyncio.sleep(1.0)  # a few passes of shard 0's reporter: not its server's job
        assert results(fake, g1, "missed") == []
    finally:
        await queue.close()

    # 4. Shard 1 again, on another machine: it catches up on the report it missed, and both
    # models generate there, fetched from the blobs into its own cache.
    cluster.start_bot("bot1b", "m2", 1)
    await fake.wait_until(lambda: _ready_shards(fake) == [[0, 2], [1, 2]], 90)
    await fake.wait_until(lambda: bool(results(fake, g1, "missed")), 60)
    for name in ("shared", "missed"):
        assert (await _generate(fake, g1, alice, name)).content.startswith("**The **")
        assert len(_cached(root / "m2", name)) == 1
    assert len(results(fake, g1, "shared")) == len(results(fake, g1, "missed")) == 1

    # 5. A default chosen and a model deleted through that process ...
    chosen = await fake.invoke(g1, fake.owner, "model default", {"name": "missed"})
    await answered(chosen)
    ix = await fake.invoke(g1, alice, "model delete", {"name": "shared"})
    await answered(ix)
    await confirmed(await fake.click(ix, alice, _custom_id(ix, "Delete")), ix)
    assert "Deleted" in reply(ix) and _cached(root / "m2", "shared") == []
    assert len(_cached(root / "m1", "shared")) == 1  # shard 1's first machine is away

    # ... are what shard 1's first machine sees when it serves it again: its cached copy of
    # the deleted model goes at its start, the new default is fetched on first use.
    await cluster.stop("bot1b")
    await fake.wait_until(lambda: _ready_shards(fake) == [[0, 2]], 30)
    cluster.start_bot("bot1c", "m1", 1)
    await fake.wait_until(lambda: _ready_shards(fake) == [[0, 2], [1, 2]], 90)
    assert _cached(root / "m1", "shared") == []
    default = await _generate(fake, g1, alice)
    assert "missed · temperature" in default.content
    assert len(_cached(root / "m1", "missed")) == 1
    gone = await fake.invoke(
        g1, alice, "generate", {"seed": "The", "temperature": 0.5, "model": "shared"}
    )
    await answered(gone)
    assert "no model called `shared`" in reply(gone)
    assert (await _generate(fake, g0, alice)).content.startswith("**The **")

    password = cluster.url.split(":")[2].split("@")[0]
    for name in ("bot0", "bot1", "bot1b", "bot1c", "worker"):
        assert password not in cluster.log(name), name

"""``--processes 2`` on the embedded SQLite file: two real bot processes split the shards of a
fake Discord (in the test's process), with one worker on the same file; servers on both
shards are served, each by its own process (commands and buttons); a ``/train`` in shard 1's
server is imported and announced once; a process started with another shard count is refused
while they run, saying why; ``kill -9`` of shard 1's process with a job of its server in flight
leaves its servers unanswered while the other keeps serving (and leaves the job's report to
it), until it is started again by hand: it serves again and announces the result it missed,
once."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from fake_discord import FakeDiscord
from worker.process import clean_env

from ..jobs.procs import wait_exit
from .test_machines import results, train
from .test_models import _custom_id

ROOT = Path(__file__).resolve().parents[2]


def _env(data_dir: Path) -> dict[str, str]:
    env = clean_env()
    env.update(
        PYTHONPATH=str(ROOT),
        LSTM_BOT_DATA_DIR=str(data_dir),
        LSTM_BOT_DEFAULT_MODEL="basic",
        LSTM_BOT_GENERATE_COOLDOWN="0",
        LSTM_BOT_POLL_SECONDS="0.2",
        LSTM_BOT_MIN_CORPUS_CHARS="2000",
        TF_CPP_MIN_LOG_LEVEL="2",
        TF_NUM_INTRAOP_THREADS="1",
        TF_NUM_INTEROP_THREADS="1",
    )
    return env


def _start(fake: FakeDiscord, tmp_path: Path, builtin: Path, name: str, *extra: str, **env):
    args = ["--api", fake.api_url, "--gateway", fake.ws_url, "--builtin", str(builtin)]
    return _run(tmp_path, name, "tests.remote_bot", *args, *extra, **env)


def _run(tmp_path: Path, name: str, *args: str, **env: str) -> subprocess.Popen:
    with open(tmp_path / f"{name}.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=tmp_path,
            env=_env(tmp_path / "data") | env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def _wait_status(database: Path, job_id: int, status: str, timeout: float) -> None:
    row = None
    for _ in range(int(timeout / 0.3)):
        with sqlite3.connect(database) as conn:
            row = conn.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row and row[0] == status:
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"job {job_id} is {row and row[0]}, not {status}")


def _ready_shards(fake: FakeDiscord) -> list[list[int]]:
    return sorted(s.shard for s in fake._sessions if s.ready)


async def _generate(fake: FakeDiscord, guild, user):
    ix = await fake.invoke(guild, user, "generate", {"seed": "The ", "temperature": 0.5})
    await ix.wait_content(lambda c: c and "characters" in c and "writing" not in c, 30)
    return ix


@pytest.mark.slow  # a worker process
async def test_two_shard_processes_on_one_sqlite_file(tmp_path: Path, builtin_dir: Path) -> None:
    async with FakeDiscord(quiet_period=0.05, ack_timeout=1.0) as fake:
        fake.sharding.recommended, fake.sharding.max_concurrency = 2, 2
        g0, g1 = fake.add_guild("zero", shard=(0, 2)), fake.add_guild("one", shard=(1, 2))
        alice = fake.add_user("alice")
        for guild in (g0, g1):
            fake.add_member(guild, alice)
        parent = _start(fake, tmp_path, builtin_dir, "launcher", "--processes", "2")
        others: list[subprocess.Popen] = []
        try:
            await fake.wait_until(
                lambda: _ready_shards(fake) == [[0, 2], [1, 2]] and fake.find_command("generate"),
                90,
            )
            replies = [await _generate(fake, guild, alice) for guild in (g0, g1)]
            assert all(ix.content.startswith("**The **") for ix in replies)
            again = await fake.click(replies[1], alice, _custom_id(replies[1], "Regenerate"))
            await again.wait_done(timeout=30)
            assert again.acked and not again.ack_violation

            # A /train in shard 1's server: imported and announced once, by its process.
            worker = _run(tmp_path, "worker", "worker", "--progress-seconds", "0.3")
            others.append(worker)
            job = await train(fake, g1, alice, "sharded", 3000, "quick")
            await fake.wait_until(lambda: bool(results(fake, g1, "sharded")), 180)
            await asyncio.sleep(1.0)  # a few more passes of both reporters
            assert len(results(fake, g1, "sharded")) == 1
            assert results(fake, g0, "sharded") == []
            data = tmp_path / "data"
            with sqlite3.connect(data / "lstm-bot.sqlite3") as conn:
                rows = conn.execute("SELECT id FROM models WHERE job_id = ?", (job,)).fetchall()
            assert len(rows) == 1

            # A third process with another shard count is refused, and says why.
            odd = _start(fake, tmp_path, builtin_dir, "odd", LSTM_BOT_SHARD_COUNT="3")
            assert await wait_exit(odd, 60) != 0
            said = (tmp_path / "odd.log").read_text()
            assert "shard count (3) disagrees with the bot process" in said
            assert "runs with 2 shards" in said

            # kill -9 shard 1's process with a job of its server in flight.
            log = (tmp_path / "launcher.log").read_text()
            pids = dict(re.findall(r"started bot process (\d+) for shards (\S+) of 2", log))
            by_shard = {shards: int(pid) for pid, shards in pids.items()}
            missed = await train(fake, g1, alice, "missed", 3000, "quick")
            os.kill(by_shard["1"], signal.SIGKILL)
            await fake.wait_until(lambda: _ready_shards(fake) == [[0, 2]], 30)

            options = {"seed": "Hi", "temperature": 0.5}
            unanswered = await fake.invoke(g1, alice, "generate", options)
            assert (await _generate(fake, g0, alice)).content.startswith("**The **")
            await fake.wait_until(lambda: unanswered.ack_violation, 10)
            assert not unanswered.acked
            assert [v.split(":")[0] for v in fake.take_violations()] == ["ack_timeout"]

            # The job ends meanwhile: shard 0's process leaves it to shard 1's.
            await _wait_status(data / "lstm-bot.sqlite3", missed, "succeeded", 180)
            await asyncio.sleep(1.0)  # a few passes of shard 0's reporter
            assert results(fake, g1, "missed") == []

            # Started again by hand (its claim's process is gone): it serves its server again
            # and catches up on the report it missed, once.
            shard1 = {"LSTM_BOT_SHARD_COUNT": "2", "LSTM_BOT_SHARD_IDS": "1"}
            back = _start(fake, tmp_path, builtin_dir, "back", **shard1)
            others.append(back)
            await fake.wait_until(lambda: _ready_shards(fake) == [[0, 2], [1, 2]], 90)
            assert (await _generate(fake, g1, alice)).content.startswith("**The **")
            await fake.wait_until(lambda: bool(results(fake, g1, "missed")), 60)
            await asyncio.sleep(1.0)
            assert len(results(fake, g1, "missed")) == 1 and results(fake, g0, "missed") == []
            assert f"job {missed}: imported" in (tmp_path / "back.log").read_text()
        finally:
            for proc in others:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    await wait_exit(proc, 30)
            parent.send_signal(signal.SIGTERM)
            try:
                await wait_exit(parent, 30)
            finally:
                if parent.poll() is None:
                    parent.kill()
        fake.assert_no_violations()

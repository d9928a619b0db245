"""Several machines, moving queues (issue 14 item 4): the bot as a process of its own on the
embedded queue gets a model trained; then the same bot data moves to PostgreSQL, whose first
job has id 1 again: it is imported and announced as well, and both models stay usable.

The test plays the worker through each queue's own worker interface (what a worker process
does, without Keras): what is tested is the bot's side, in a real process, on real queues.
"""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import pytest

from fake_discord import FakeDiscord
from jobs.engine import open_queue
from jobs.postgres import PostgresQueue
from jobs.sqlite import SqliteQueue
from model_store.artifact import write_artifact

from ..jobs.procs import wait_exit
from .test_machines import Machines, results, train


class Moving(Machines):
    """Machines that start on the embedded queue in the bot's SQLite file."""

    embedded = True

    def env(self, name: str) -> dict[str, str]:
        env = super().env(name)
        if self.embedded:
            del env["LSTM_BOT_QUEUE_URL"]
        return env

    @property
    def database(self) -> Path:
        return self.root / "bot" / "lstm-bot.sqlite3"


@pytest.fixture
async def machines(tmp_path, pg_url, builtin_dir):
    async with FakeDiscord(quiet_period=0.05) as fake:
        cluster = Moving(tmp_path, pg_url, fake, builtin_dir)
        try:
            yield cluster
        finally:
            cluster.stop_all()
        fake.assert_no_violations()


async def work(queue, job_id: int, result: dict[str, bytes]) -> None:
    """Train job ``job_id`` as a worker would: start it, hand in the result."""
    if isinstance(queue, SqliteQueue):
        lease = await queue.claim("worker")
    else:
        assert isinstance(queue, PostgresQueue)
        lease = await queue.start(job_id, "worker")
    assert lease is not None and lease.job_id == job_id
    await queue.complete(lease, result, {"card": {}, "sample": "", "epochs_run": 1})


async def test_a_move_to_postgres_keeps_every_model(machines: Moving, tiny_model, tmp_path) -> None:
    fake = machines.fake
    guild, alice = fake.add_guild("Guild A"), fake.add_user("alice")
    fake.add_member(guild, alice)
    write_artifact(tmp_path / "result", tiny_model.artifact)
    result = {p.name: p.read_bytes() for p in (tmp_path / "result").iterdir()}

    await machines.start_bot("bot")
    assert await train(fake, guild, alice, "oldstyle", 20_000, "quick") == 1
    queue = await open_queue(queue_url=None, database_path=machines.database)
    try:
        await work(queue, 1, result)
    finally:
        await queue.close()
    await fake.wait_for_message(
        guild.default_channel, lambda m: bool(results(fake, guild, "oldstyle")), timeout=60
    )
    machines.procs["bot"].send_signal(signal.SIGTERM)
    assert await wait_exit(machines.procs["bot"], 30) == 0

    machines.embedded = False  # the same bot data, the queue on PostgreSQL
    await machines.start_bot("bot2")
    assert await train(fake, guild, alice, "newstyle", 20_000, "quick") == 1
    queue = await open_queue(queue_url=machines.url)
    try:
        await work(queue, 1, result)
    finally:
        await queue.close()
    await fake.wait_for_message(
        guild.default_channel, lambda m: bool(results(fake, guild, "newstyle")), timeout=60
    )
    for name in ("oldstyle", "newstyle"):
        options = {"seed": "The ", "model": name, "length": 20, "temperature": 0.5}
        gen = await fake.invoke(guild, alice, "generate", options)
        await gen.wait_content(lambda c: c and "20 characters" in c, timeout=30)
    with sqlite3.connect(machines.database) as conn:
        rows = conn.execute(
            "SELECT name, job_queue, job_id FROM models WHERE guild_id != 0 ORDER BY id"
        ).fetchall()
    assert [(name, job) for name, _, job in rows] == [("oldstyle", 1), ("newstyle", 1)]
    assert rows[0][1] != rows[1][1] and None not in (rows[0][1], rows[1][1])
    assert len(results(fake, guild, "newstyle")) == 1

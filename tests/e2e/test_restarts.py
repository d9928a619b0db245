"""Stopping and restarting the bot loses nothing (issue 18, finding 4 and "shutdown and
restart lose nothing"): SIGTERM stops taking new work, lets the replies in flight finish
for a few seconds, ends the rest with their text, "stopped: press Continue" and working
buttons, then closes; after ``kill -9`` the next start repairs the replies left mid-write,
from message ids stored in the bot's database (never their text).

The bot runs as a process of its own (``tests.remote_bot``, generating slowly) against the
fake Discord in the test's process, or in the test's process where it needs no signal.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from bot.client import LSTMBot
from fake_discord import FakeDiscord
from fake_discord.testing import running_bot
from model_store.sampling import BatchSampler
from worker.process import clean_env

from ..jobs.procs import wait_exit
from .helpers import answered, private, reply
from .test_buttons import button, finished, shown

ROOT = Path(__file__).resolve().parents[2]
SEED = "The old man"
SHORT = {"seed": "The", "temperature": 0, "length": 20}


def writing(ix) -> bool:
    return "writing…" in (ix.content or "")


def stopped(message) -> bool:
    """A reply ended by a shutdown: its text and buttons, and the footer says so."""
    content = message.content or ""
    return (
        "stopped: press Continue" in content
        and "writing…" not in content
        and "▌" not in content
        and bool(message.components)
    )


def start_bot(fake: FakeDiscord, data_dir: Path, builtin: Path, **env: str) -> subprocess.Popen:
    """``tests.remote_bot`` writing a character every 50 ms, its log in ``data_dir``."""
    environ = clean_env()
    environ.update(
        PYTHONPATH=str(ROOT),
        LSTM_BOT_DATA_DIR=str(data_dir),
        LSTM_BOT_DEFAULT_MODEL="basic",
        LSTM_BOT_GENERATE_COOLDOWN="0",
        **env,
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "bot.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.remote_bot", "--api", fake.api_url]
            + ["--gateway", fake.ws_url, "--builtin", str(builtin), "--slow-generation", "0.05"],
            cwd=ROOT,
            env=environ,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def started(fake: FakeDiscord, proc: subprocess.Popen) -> None:
    await fake.wait_until(lambda: fake.connected or proc.poll() is not None, 60)
    assert proc.poll() is None, "the bot process ended at start-up"
    await fake.wait_until(lambda: fake.find_command("generate") is not None, 30)


async def a_slow_reply(fake: FakeDiscord, guild, user):
    options = {"seed": SEED, "temperature": 0.5, "length": 300}
    ix = await fake.invoke(guild, user, "generate", options)
    await ix.wait_for(writing, 60, "a streamed edit")
    return ix


def unfinished_rows(database: Path) -> list[tuple]:
    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT * FROM unfinished_replies").fetchall()


async def test_sigterm_ends_a_reply_in_flight_cleanly_then_closes(tmp_path, builtin_dir):
    async with FakeDiscord(quiet_period=0.05) as fake:
        guild, alice = fake.add_guild("G"), fake.add_user("alice")
        fake.add_member(guild, alice)
        data = tmp_path / "bot"
        proc = start_bot(fake, data, builtin_dir, LSTM_BOT_SHUTDOWN_GRACE="5")
        try:
            await started(fake, proc)
            ix = await a_slow_reply(fake, guild, alice)
            proc.send_signal(signal.SIGTERM)
            log = data / "bot.log"
            await fake.wait_until(lambda: "shutting down" in log.read_text(), 30)
            late = await fake.invoke(guild, alice, "generate", SHORT)
            await answered(late)
            assert private(late) and "restarting" in reply(late)
            assert await wait_exit(proc, 60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
        message = ix.original
        assert stopped(message), message.content
        seed, text = shown(message)
        assert seed == SEED and 0 < len(text) < 300
        assert unfinished_rows(data / "lstm-bot.sqlite3") == []
        fake.assert_no_violations()
        settings = _settings(data)
        await _continue(fake, settings, builtin_dir, message, alice, len(text))
        fake.assert_no_violations()


async def test_after_kill_9_the_next_start_repairs_the_reply(tmp_path, builtin_dir):
    async with FakeDiscord(quiet_period=0.05) as fake:
        guild, alice = fake.add_guild("G"), fake.add_user("alice")
        fake.add_member(guild, alice)
        data = tmp_path / "bot"
        proc = start_bot(fake, data, builtin_dir)
        try:
            await started(fake, proc)
            ix = await a_slow_reply(fake, guild, alice)
            database = data / "lstm-bot.sqlite3"
            await fake.wait_until(lambda: unfinished_rows(database), 30)
        finally:
            proc.kill()
            proc.wait()
        message = ix.original
        assert writing(message)  # left mid-write
        for path in data.glob("lstm-bot.sqlite3*"):  # ids and options only, never text
            assert SEED.encode() not in path.read_bytes(), path
        ((message_id, channel_id, guild_id, *_),) = unfinished_rows(database)
        assert (message_id, channel_id, guild_id) == (
            message.id,
            guild.default_channel.id,
            guild.id,
        )
        bot = LSTMBot(_settings(data), sync_commands=True, builtin_root=builtin_dir)
        async with running_bot(fake, bot):
            await fake.wait_until(lambda: stopped(message), 30)
            seed, text = shown(message)
            assert seed == SEED and len(text) > 0
            await fake.wait_until(lambda: unfinished_rows(database) == [], 10)
            await _press_continue(fake, message, alice, len(text))
        fake.assert_no_violations()


async def test_a_reply_finishing_within_the_grace_period_is_whole(env, monkeypatch):
    """While the bot stops, a reply that ends within the grace period ends as usual, and new
    work is refused with "restarting"."""
    go = threading.Event()
    step = BatchSampler.step

    def slow_step(self):
        go.wait(0.05)
        return step(self)

    done = await env.fake.invoke(env.guild_a, env.alice, "generate", SHORT)
    await done.wait_for(finished, 30, "a finished reply")
    monkeypatch.setattr(BatchSampler, "step", slow_step)
    env.bot.settings = env.settings.replace(shutdown_grace=60)
    ix = await a_slow_reply(env.fake, env.guild_a, env.alice)
    closing = asyncio.create_task(env.bot.close())
    await env.fake.wait_until(lambda: env.bot.flights.closing, 10)
    late = await env.fake.invoke(env.guild_a, env.carol, "generate", SHORT)
    await answered(late)
    assert private(late) and "restarting" in reply(late)
    click = await env.fake.click(done.original, env.carol, button(done.original, "Regenerate"))
    await click.wait_for(lambda i: [m for m in i.messages if m.ephemeral], 10, "an answer")
    (answer,) = [m for m in click.messages if m.ephemeral]
    assert "restarting" in answer.content
    go.set()
    await asyncio.wait_for(closing, 60)
    assert finished(ix) and "300 characters" in ix.original.content
    assert "stopped" not in ix.original.content and ix.original.components


def _settings(data: Path):
    from bot.settings import Settings

    return Settings(data_dir=data, default_model="basic", generate_cooldown=0)


async def _continue(fake, settings, builtin, message, user, length: int) -> None:
    bot = LSTMBot(settings, sync_commands=True, builtin_root=builtin)
    async with running_bot(fake, bot):
        await _press_continue(fake, message, user, length)


async def _press_continue(fake, message, user, length: int) -> None:
    """The repaired reply's Continue button works: the text grows past ``length``."""
    await fake.click(message, user, button(message, "Continue"))

    def grown() -> bool:
        if "writing…" in message.content or "stopped" in message.content:
            return False
        return len(shown(message)[1]) > length

    await fake.wait_until(grown, 60)


async def test_a_dialog_opened_before_the_stop_is_refused_while_stopping(
    env, tiny_model, monkeypatch
):
    """A ``/model delete`` dialog confirmed during the grace period is told "restarting" and
    deletes nothing, as commands and reply buttons are."""
    from .test_stale_records import _custom_id, ask_delete

    record = await env.add_guild_model(env.guild_a, env.alice, "keepme", tiny_model.artifact)
    dialog = await ask_delete(env, "keepme")
    go = threading.Event()
    step = BatchSampler.step
    monkeypatch.setattr(BatchSampler, "step", lambda self: (go.wait(0.05), step(self))[1])
    env.bot.settings = env.settings.replace(shutdown_grace=60)
    await a_slow_reply(env.fake, env.guild_a, env.carol)
    closing = asyncio.create_task(env.bot.close())
    await env.fake.wait_until(lambda: env.bot.flights.closing, 10)
    click = await env.fake.click(dialog, env.alice, _custom_id(dialog, "Delete"))
    await click.wait_for(lambda i: [m for m in i.messages if m.ephemeral], 10, "an answer")
    (answer,) = [m for m in click.messages if m.ephemeral]
    assert "restarting" in answer.content
    assert await env.bot.registry.get(env.guild_a.id, "keepme") == record
    go.set()
    await asyncio.wait_for(closing, 60)

"""/train, /job and /privacy end to end: the fake Discord, the real bot, a real worker process.

The tests where the queue's engine matters (a worker trains, reports, fails or is cancelled
through it) run on each engine (``ON_BOTH_ENGINES``: embedded SQLite; PostgreSQL, where the
worker has its own data directory); the others (what the bot answers before anything is
queued) on the embedded one."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot.client import LSTMBot
from cogs.training import job_reporter
from fake_discord import FakeDiscord
from fake_discord.testing import running_bot
from worker import process
from worker.process import clean_env

from ..textgen import make_text
from .helpers import answered, private, reply

ROOT = Path(__file__).resolve().parents[2]


ON_BOTH_ENGINES = pytest.mark.parametrize("engine", ["sqlite", "postgres"])


@pytest.fixture
def engine() -> str:
    """The queue's engine: the embedded one unless a test asks for both (``ON_BOTH_ENGINES``)."""
    return "sqlite"


@pytest.fixture
def settings(request, settings, engine, monkeypatch):
    monkeypatch.setattr(job_reporter, "EDIT_INTERVAL", 0.3)
    queue_url = request.getfixturevalue("pg_url") if engine == "postgres" else None
    return settings.replace(
        poll_seconds=0.2,
        min_corpus_chars=2000,
        max_upload_bytes=3_000_000,
        queue_url=queue_url,
    )


def start_worker(settings, log: Path) -> subprocess.Popen:
    """A worker process: with PostgreSQL on a data directory of its own (another machine)."""
    env = clean_env()
    remote = settings.queue_conninfo is not None
    data = settings.data_dir.parent / "worker-machine" if remote else settings.data_dir
    env.update(
        PYTHONPATH=str(ROOT),
        LSTM_BOT_DATA_DIR=str(data),
        LSTM_BOT_LEASE_SECONDS="10",
        TF_CPP_MIN_LOG_LEVEL="2",
        **({"LSTM_BOT_QUEUE_URL": settings.queue_conninfo} if settings.queue_conninfo else {}),
    )
    args = ("--poll", "0.2", "--progress-seconds", "0.3")
    return process.start_worker(env, log, *args, cwd=settings.data_dir.parent)


@pytest.fixture
def worker(settings, tmp_path):
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    proc = start_worker(settings, tmp_path / "worker.log")
    yield proc
    proc.kill()
    proc.wait()


def upload(env, text: str | bytes, filename: str = "style.txt"):
    data = text.encode() if isinstance(text, str) else text
    return env.fake.add_attachment(filename, data, "text/plain")


def is_result(message) -> bool:
    return any("is trained" in (e.get("title") or "") for e in message.embeds)


async def wait_result(env, timeout: float = 120):
    channel = env.guild_a.default_channel
    return await env.fake.wait_for_message(channel, is_result, timeout=timeout)


@ON_BOTH_ENGINES
async def test_upload_train_progress_result_list_generate(env, worker):
    text = make_text(200_000, seed=5, extra=" é")
    ix = await env.fake.invoke(
        env.guild_a,
        env.alice,
        "train",
        {"file": upload(env, text), "name": "style", "effort": "quick"},
    )
    await ix.wait_content(lambda c: c and "Queued job #" in c, timeout=20)
    assert private(ix) and "fine-tuning `basic`" in reply(ix)
    result = await wait_result(env)
    # The progress message was posted in the channel and edited as training went.
    channel = env.fake.channel_messages(env.guild_a.default_channel)
    progress = [m for m in channel if m.embeds and "Training `style`" in m.embeds[0]["title"]]
    assert len(progress) == 1
    descriptions = [e.embeds[0].get("description", "") for e in progress[0].edits if e.embeds]
    assert any("epoch" in d and "ETA" in d for d in descriptions)
    assert "Done" in progress[0].embeds[0]["description"]
    # The result: card figures, a sample and the loss-curve plot.
    fields = {f["name"]: f["value"] for f in result.embeds[0]["fields"]}
    held = fields["Held-out loss"]
    assert "nats/char" in held and "base model: " in held and "uniform guess: " in held
    assert result.embeds[0]["title"].startswith("✅")  # it learned: below its base
    assert fields["Sample"]
    (plot,) = result.attachments
    assert plot.filename == "loss.png" and plot.data[:8] == b"\x89PNG\r\n\x1a\n"
    # The new model is listed and usable, with its new character.
    listing = await env.fake.invoke(env.guild_a, env.alice, "model list")
    await answered(listing)
    assert "style" in [f["name"] for f in listing.embeds[0]["fields"]]
    gen = await env.fake.invoke(
        env.guild_a,
        env.alice,
        "generate",
        {"seed": "The café", "temperature": 0.5, "model": "style", "length": 60},
    )
    await gen.wait_content(lambda c: c and "60 characters" in c, timeout=30)
    assert "skipped" not in gen.content  # 'é' is known now
    # Nothing left behind: the upload was deleted once the job ended.
    (job,) = await env.bot.jobs.list_for_guild(env.guild_a.id, 10)
    assert job.corpus_deleted and await env.bot.jobs.files(job.id, "corpus") == {}
    # Another server does not see it.
    other = await env.fake.invoke(env.guild_b, env.bob, "model list")
    await answered(other)
    assert "style" not in [f["name"] for f in other.embeds[0]["fields"]]


BAD_UPLOADS = [
    ("notes.pdf", make_text(5000), {}, "not a .txt file"),
    (
        "big.txt",
        make_text(20_000),
        {"max_upload_bytes": 10_000},
        "20,000 bytes; the limit is 10,000",
    ),
    (
        "huge.txt",
        b"a b" * 1_666_667,  # 5,000,001 bytes
        {"max_upload_bytes": 5_000_000},
        "That file is 5,000,001 bytes; the limit is 5,000,000 bytes (5 MB)",
    ),
    ("empty.txt", b"", {}, "empty"),
    ("short.txt", "Too short to learn anything from.", {}, "too short"),
    ("latin1.txt", ("Caf\u00e9 cr\u00e8me. " * 400).encode("latin-1"), {}, "not UTF-8"),
    ("binary.txt", b"\x00\x01\x02\x03" * 2000, {}, "binary"),
    ("noise.txt", bytes(range(1, 32)) * 300, {}, "unprintable"),
]


@pytest.mark.parametrize("filename, data, patch, expected", BAD_UPLOADS)
async def test_upload_rules(env, filename, data, patch, expected):
    env.bot.settings = env.settings.replace(**patch)
    attachment = upload(env, data, filename)
    ix = await env.fake.invoke(
        env.guild_a, env.alice, "train", {"file": attachment, "name": "fresh"}
    )
    await answered(ix)
    assert private(ix) and expected in reply(ix), ix.content
    await assert_nothing_stored(env)
    if patch:  # too big: refused from its declared size, never downloaded
        assert not [r for r in env.fake.requests if "/attachments/" in r[2]]


@pytest.mark.parametrize(
    "name, expected",
    [("basic", "already a model called `basic`"), ("No Spaces!", "can't be a model name")],
)
async def test_bad_names(env, name, expected):
    ix = await env.fake.invoke(
        env.guild_a, env.alice, "train", {"file": upload(env, make_text(5000)), "name": name}
    )
    await answered(ix)
    assert private(ix) and expected in reply(ix)
    await assert_nothing_stored(env)


async def test_quota_per_user(env):
    env.bot.settings = env.settings.replace(max_jobs_per_user=1)
    first = await env.fake.invoke(
        env.guild_a, env.alice, "train", {"file": upload(env, make_text(5000)), "name": "one"}
    )
    await first.wait_content(lambda c: c and "Queued job #" in c, timeout=15)
    second = await env.fake.invoke(
        env.guild_a, env.alice, "train", {"file": upload(env, make_text(5000)), "name": "two"}
    )
    await answered(second)
    assert private(second) and "Queued" not in reply(second)
    jobs = await env.bot.jobs.list_for_guild(env.guild_a.id, 10)
    assert [j.model_name for j in jobs] == ["one"]
    assert await env.bot.jobs.corpus_bytes_for_guild(env.guild_a.id) == jobs[0].corpus_bytes


async def test_cancel_queued_job_deletes_its_upload(env):
    ix = await env.fake.invoke(
        env.guild_a, env.alice, "train", {"file": upload(env, make_text(5000)), "name": "queued"}
    )
    await ix.wait_content(lambda c: c and "Queued job #" in c, timeout=15)
    (job,) = await env.bot.jobs.list_for_guild(env.guild_a.id, 10)
    assert await env.bot.jobs.files(job.id, "corpus")
    cancel = await env.fake.invoke(env.guild_a, env.alice, "job cancel", {"id": job.id})
    await answered(cancel)
    assert "before it started" in reply(cancel)
    assert await env.bot.jobs.files(job.id, "corpus") == {}
    assert (await env.bot.jobs.get(job.id)).status == "cancelled"


@pytest.mark.slow  # a worker process
@ON_BOTH_ENGINES
async def test_a_failed_job_says_why_in_the_language_of_who_started_it(env, settings, tmp_path):
    """A real worker fails the job for a reason it records as a code; the channel's message
    and `/job status` give that reason in Turkish to a Turkish user."""
    turkish = env.fake.add_user("ayse", locale="tr")
    env.fake.add_member(env.guild_a, turkish)
    ix = await env.fake.invoke(
        env.guild_a, turkish, "train", {"file": upload(env, make_text(5000)), "name": "kayip"}
    )
    await answered(ix, 30)
    (job,) = await env.bot.jobs.list_for_guild(env.guild_a.id, 10)
    await env.bot.jobs.delete_corpus(job.id)  # the upload is gone before a worker takes it
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    proc = start_worker(settings, tmp_path / "worker.log")
    try:
        message = await env.fake.wait_for_message(
            env.guild_a.default_channel,
            lambda m: "Eğitim başarısız oldu" in (m.embeds[0].get("description") or ""),
            timeout=90,
        )
    finally:
        proc.kill()
        proc.wait()
    failed = await env.bot.jobs.get(job.id)
    assert failed.error_code == "upload_gone" and "uploaded text is gone" in failed.error
    shown = message.embeds[0]["description"]
    assert "yüklenen metin" in shown and "uploaded" not in shown
    status = await answered(await env.fake.invoke(env.guild_a, turkish, "job status"))
    assert "başarısız" in reply(status) and "yüklenen metin" in reply(status)
    assert "uploaded" not in reply(status)


async def assert_nothing_stored(env):
    assert await env.bot.jobs.list_for_guild(env.guild_a.id, 10) == []
    assert await env.bot.jobs.corpus_bytes_for_guild(env.guild_a.id) == 0


@ON_BOTH_ENGINES
async def test_job_commands_and_cancel_mid_training(env, worker):
    text = make_text(600_000, seed=2)
    ix = await env.fake.invoke(
        env.guild_a,
        env.alice,
        "train",
        {"file": upload(env, text), "name": "long", "effort": "thorough"},
    )
    await ix.wait_content(lambda c: c and "Queued job #" in c, timeout=30)
    (job,) = await env.bot.jobs.list_for_guild(env.guild_a.id, 10)

    async def running():
        current = await env.bot.jobs.get(job.id)
        events = await env.bot.jobs.events_after(job.id, 0)
        return current.status == "running" and any(e.kind == "progress" for e in events)

    from ..jobs.procs import wait_for

    await wait_for(running, 60, "training to start")
    status = await env.fake.invoke(env.guild_a, env.alice, "job status")
    await answered(status)
    assert f"#{job.id} `long` · running" in reply(status)
    hidden = await env.fake.invoke(env.guild_b, env.bob, "job status", {"id": job.id})
    await answered(hidden)
    assert f"no job #{job.id} on this server" in reply(hidden)
    denied = await env.fake.invoke(env.guild_a, env.carol, "job cancel", {"id": job.id})
    await answered(denied)
    assert "Only the job's owner" in reply(denied)
    cancel = await env.fake.invoke(env.guild_a, env.alice, "job cancel", {"id": job.id})
    await answered(cancel)
    assert "Stopping job" in reply(cancel)

    async def cancelled():
        return (await env.bot.jobs.get(job.id)).status == "cancelled"

    await wait_for(cancelled, 15, "the job to stop")
    channel = env.guild_a.default_channel
    await env.fake.wait_for_message(
        channel,
        lambda m: bool(m.embeds) and m.embeds[0].get("description") == "Cancelled.",
        timeout=10,
    )
    listing = await env.fake.invoke(env.guild_a, env.alice, "job list")
    await answered(listing)
    assert f"#{job.id} `long` · cancelled" in listing.embeds[0]["description"]
    assert await env.bot.registry.get(env.guild_a.id, "long") is None


@pytest.mark.slow  # a worker process
async def test_bot_restart_mid_job_still_reports(settings, builtin_dir, tmp_path):
    """Stop the bot while the worker trains; a new bot process picks up the reporting. (On
    PostgreSQL, tests/e2e/test_machines.py restarts the bot's process mid-job the same way.)"""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    proc = start_worker(settings, tmp_path / "worker.log")
    try:
        async with FakeDiscord(quiet_period=0.05) as fake:
            guild = fake.add_guild("Guild A")
            alice = fake.add_user("alice")
            fake.add_member(guild, alice)
            channel = guild.default_channel
            text = make_text(40_000, seed=9)
            bot = LSTMBot(settings, sync_commands=True, builtin_root=builtin_dir)
            async with running_bot(fake, bot):
                ix = await fake.invoke(
                    guild,
                    alice,
                    "train",
                    {
                        "file": fake.add_attachment("a.txt", text.encode()),
                        "name": "restart",
                        "effort": "normal",
                    },
                )
                await ix.wait_content(lambda c: c and "Queued job #" in c, timeout=30)
                progress = await fake.wait_for_message(
                    channel,
                    lambda m: bool(m.embeds) and "Training" in m.embeds[0]["title"],
                    timeout=30,
                )
            # The bot is down; the worker keeps training. A new bot comes up.
            bot2 = LSTMBot(settings, sync_commands=True, builtin_root=builtin_dir)
            async with running_bot(fake, bot2):
                result = await fake.wait_for_message(channel, is_result, timeout=180)
            assert result.embeds[0]["title"] == "✅ `restart` is trained"
            progress_messages = [
                m
                for m in fake.channel_messages(channel)
                if m.embeds and "Training" in m.embeds[0]["title"]
            ]
            assert [m.id for m in progress_messages] == [progress.id]  # edited, not re-posted
            assert "Done" in progress_messages[0].embeds[0]["description"]
            fake.assert_no_violations()
    finally:
        proc.kill()
        proc.wait()


async def test_privacy(env):
    ix = await env.fake.invoke(env.guild_a, env.alice, "privacy")
    await answered(ix)
    assert private(ix) and "Uploaded texts" in reply(ix) and "/model delete" in reply(ix)
    text = reply(ix)
    assert "default model (`/model default`)" in text  # the one server setting
    assert "*Continue this text* is used on" in text and "Continue and Regenerate" in text
    assert "language" in text  # kept with each job, for its messages
    assert len(text) <= 2000
    joao = env.fake.add_user("joao", locale="pt-BR")
    env.fake.add_member(env.guild_a, joao)
    ix = await env.fake.invoke(env.guild_a, joao, "privacy")
    await answered(ix)
    assert reply(ix).startswith("**O que o lstm-bot guarda**")


@pytest.mark.parametrize(
    "filename, encode",
    [
        ("my notes #1?.txt", lambda t: t.encode()),
        ("Größe des Café.txt", lambda t: b"\xef\xbb\xbf" + t.encode()),
        ("日本語.txt", lambda t: t.encode("utf-16")),  # Notepad's "Unicode"
    ],
)
async def test_uploads_as_people_make_them_are_queued(env, filename, encode):
    text = make_text(3000, seed=4)
    ix = await env.fake.invoke(
        env.guild_a,
        env.alice,
        "train",
        {"file": upload(env, encode(text), filename), "name": "words"},
    )
    await answered(ix)
    assert private(ix) and "Queued job #" in reply(ix) and "3,000 characters" in reply(ix)
    (job,) = await env.bot.jobs.list_for_guild(env.guild_a.id, 10)
    (corpus,) = (await env.bot.jobs.files(job.id, "corpus")).values()
    assert corpus.decode("utf-8") == text


async def test_a_failed_download_gets_a_clear_message(env):
    attachment = upload(env, make_text(3000), "gone.txt")
    del env.fake.attachments[attachment.id]  # Discord's CDN no longer has it
    ix = await answered(
        await env.fake.invoke(
            env.guild_a, env.alice, "train", {"file": attachment, "name": "words"}
        )
    )
    assert private(ix) and "couldn't download `gone.txt`" in reply(ix)
    assert "upload it again" in reply(ix)
    await assert_nothing_stored(env)


@pytest.mark.parametrize("how", ["503", "timeout"])
async def test_a_passing_download_failure_says_try_again(env, monkeypatch, how):
    """A time-out or a 5xx from Discord's CDN is not the file's fault: try again, no
    re-upload asked for; nothing stored."""
    from .test_buttons import failing_cdn

    failing_cdn(monkeypatch, how)
    attachment = upload(env, make_text(3000), "words.txt")
    ix = await answered(
        await env.fake.invoke(
            env.guild_a, env.alice, "train", {"file": attachment, "name": "words"}
        )
    )
    assert private(ix) and "couldn't download `words.txt`" in reply(ix)
    assert "try `/train` again in a moment" in reply(ix)
    await assert_nothing_stored(env)


async def test_a_one_character_text_is_refused_at_upload(env):
    ix = await answered(
        await env.fake.invoke(
            env.guild_a, env.alice, "train", {"file": upload(env, "a" * 6000), "name": "words"}
        )
    )
    assert private(ix) and "only one distinct character" in reply(ix)
    await assert_nothing_stored(env)

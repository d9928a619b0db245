"""The bot in its users' languages, through the real discord.py client and the fake Discord:
commands synced with Turkish and Brazilian Portuguese descriptions (names stay English), and
the replies people see most in the language of their Discord client."""

from __future__ import annotations

import pytest

from bot.i18n import COMMAND, PO_FILES, po
from cogs.training import job_reporter
from jobs.reasons import Reason

from .helpers import answered, private, reply
from .test_buttons import button, finished

LOCALES = ("tr", "pt-BR")


def described(command: dict, path: str = ""):
    """(where, payload) of every command, subcommand and option that has a description."""
    where = f"{path} {command['name']}".strip()
    yield where, command
    for option in command.get("options", []):
        yield from described(option, where)


def synced(env) -> list[dict]:
    return env.fake.commands[None]


def test_every_command_text_is_translated_and_no_name_is(env):
    """A description, option description or choice without a Turkish or Portuguese text
    fails here (Discord then shows the English)."""
    missing, named = [], []
    for command in synced(env):
        if command.get("name_localizations"):
            named.append(command["name"])
        for where, item in described(command):
            if item.get("description"):  # (a message command has none)
                got = item.get("description_localizations") or {}
                missing += [f"{where} ({lang})" for lang in LOCALES if not got.get(lang)]
            if item is not command and item.get("name_localizations"):
                named.append(where)
            for choice in item.get("choices", []):
                got = choice.get("name_localizations") or {}
                missing += [
                    f"{where}={choice['name']} ({lang})" for lang in LOCALES if lang not in got
                ]
    assert missing == [] and named == []
    assert any(c["type"] == 3 and c["name"] == "Continue this text" for c in synced(env))


def test_no_translation_is_left_unused(env):
    """Every command text in the catalogues is one the bot syncs (none outdated)."""
    texts = set()
    for command in synced(env):
        for _, item in described(command):
            texts.add(item.get("description", ""))
            texts.update(c["name"] for c in item.get("choices", []))
    for lang, path in PO_FILES.items():
        translated = {e.msgid for e in po.read(path) if e.context == COMMAND}
        assert sorted(translated - texts) == [], lang


@pytest.fixture
def turkish(env):
    user = env.fake.add_user("ayse", locale="tr")
    env.fake.add_member(env.guild_a, user)
    return user


@pytest.fixture
def brazilian(env):
    user = env.fake.add_user("joao", locale="pt-BR")
    env.fake.add_member(env.guild_a, user)
    return user


async def test_generate_speaks_turkish(env, turkish):
    options = {"seed": "The cat", "temperature": 0.5, "length": 60}
    ix = await env.fake.invoke(env.guild_a, turkish, "generate", options)
    await ix.wait_for(finished, 30, "the final reply")
    assert ix.content.endswith("-# basic · sıcaklık 0,5 · 60 karakter")
    assert button(ix.original, "Devam et") and button(ix.original, "Yeniden yaz")
    # The same reply's buttons work for anyone; the reply stays in its language (what only
    # the presser reads is in theirs: tests/e2e/test_hostile_inputs.py).
    click = await env.fake.click(ix.original, env.alice, button(ix.original, "Devam et"))
    await click.wait_acked(timeout=5)
    await env.fake.wait_until(lambda: "120" in ix.original.content, 30)
    assert "sıcaklık 0,5 · 120 karakter" in ix.original.content
    assert button(ix.original, "Devam et")


async def test_errors_follow_the_users_language(env, turkish, brazilian):
    ix = await env.fake.invoke(
        env.guild_a, turkish, "generate", {"seed": "x", "temperature": 0.5, "model": "nope"}
    )
    await answered(ix)
    assert private(ix) and "`nope`" in reply(ix) and "model" in reply(ix)
    assert "There is no model" not in reply(ix)
    env.bot.settings = env.settings.replace(generate_cooldown=60)
    for _ in range(2):
        ix = await env.fake.invoke(
            env.guild_a, brazilian, "generate", {"seed": "The", "temperature": 0.5, "length": 5}
        )
        await answered(ix, 30)
    assert private(ix) and reply(ix).startswith("Calma: você poderá usar isto de novo em")


async def test_a_seed_the_model_cant_read_is_refused_in_the_users_language(env, brazilian):
    options = {"seed": "жжж", "temperature": 0.5, "length": 20}
    ix = await answered(await env.fake.invoke(env.guild_a, brazilian, "generate", options), 30)
    assert private(ix) and "knows none" not in reply(ix), reply(ix)
    assert reply(ix).startswith("Não consigo continuar") and "'ж'" in reply(ix)


UNUSABLE_UPLOADS = {  # an upload the bot refuses, and a word of its English explanation
    "binary.txt": (b"\x00\x01\x02 binary" * 100, "binary"),
    "latin1.txt": ("café olé ".encode("latin-1") * 100, "may be"),
    "short.txt": (b"ab " * 10, "short"),
    "same.txt": (b"a" * 2000, "distinct"),
}


@pytest.mark.parametrize("name", sorted(UNUSABLE_UPLOADS))
async def test_why_an_upload_is_refused_follows_the_users_language(env, turkish, name):
    data, english = UNUSABLE_UPLOADS[name]
    file = env.fake.add_attachment(name, data, "text/plain")
    ix = await env.fake.invoke(env.guild_a, turkish, "train", {"file": file, "name": "kedi"})
    await answered(ix, 30)
    assert private(ix) and reply(ix).startswith("Bu metinle eğitim yapamam: Dosya")
    assert english not in reply(ix) and "The file" not in reply(ix)


async def test_a_jobs_messages_follow_the_language_of_who_started_it(env, turkish, monkeypatch):
    monkeypatch.setattr(job_reporter, "EDIT_INTERVAL", 0.0)  # each event shown at once
    env.bot.get_cog("Training").reporter.poll_seconds = 0.1
    text = "Bir zamanlar bir kedi vardı. " * 400
    file = env.fake.add_attachment("metin.txt", text.encode(), "text/plain")
    ix = await env.fake.invoke(env.guild_a, turkish, "train", {"file": file, "name": "kedi"})
    await answered(ix, 30)
    assert private(ix) and "numaralı iş kuyruğa alındı: `kedi` eğitiliyor" in reply(ix)
    (job,) = await env.bot.jobs.list_for_guild(env.guild_a.id, 10)
    assert job.locale == "tr"
    queue = env.bot.jobs
    lease = await queue.claim("w")
    await queue.add_event(lease, "started", {"resumed_from_epoch": 0, "device": "CPU"})
    env.bot.get_cog("Training").reporter.poke()
    channel = env.guild_a.default_channel
    message = await env.fake.wait_for_message(
        channel, lambda m: bool(m.embeds) and "`kedi` eğitiliyor" in m.embeds[0]["title"], 15
    )
    await queue.release(lease)  # a worker shut down: the job is tried again
    env.bot.get_cog("Training").reporter.poke()
    await env.fake.wait_until(
        lambda: "Yeniden deneniyor: " in (message.embeds[0].get("description") or ""), 15
    )
    assert "shut down" not in message.embeds[0]["description"]
    lease = await queue.claim("w")
    await queue.fail(lease, Reason("base_unloadable", {"name": "poe"}), retryable=False)
    env.bot.get_cog("Training").reporter.poke()
    await env.fake.wait_until(
        lambda: "Eğitim başarısız oldu" in (message.embeds[0].get("description") or ""), 15
    )
    assert "'poe'" in message.embeds[0]["description"]
    assert "could not be loaded" not in message.embeds[0]["description"]
    status = await answered(await env.fake.invoke(env.guild_a, turkish, "job status"))
    assert "başarısız" in reply(status) and "'poe'" in reply(status)
    assert "could not be loaded" not in reply(status)
    status = await answered(await env.fake.invoke(env.guild_a, env.alice, "job list"))
    assert "failed" in status.embeds[0]["description"]  # whoever asks reads their language

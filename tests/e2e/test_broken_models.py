"""A broken model file never stops the bot: it is logged, listed as unavailable, refused
privately, and every other model keeps working (issue 7.5)."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest

from bot.client import LSTMBot
from fake_discord import FakeDiscord
from fake_discord.testing import running_bot
from model_store import ModelStore

from .conftest import DEFAULT
from .helpers import answered, private, reply


def damage_weights(model_dir: Path) -> None:
    weights = model_dir / "weights.npz"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))


@pytest.fixture
def broken_builtins(builtin_dir: Path, tiny_model) -> Path:
    """The tests' built-ins plus 'cracked' (damaged weights) and 'nocard' (bad card.json)."""
    store = ModelStore(builtin_dir)
    for name in ("cracked", "nocard"):
        store.save(dataclasses.replace(tiny_model.artifact, name=name))
    damage_weights(builtin_dir / "cracked")
    (builtin_dir / "nocard" / "card.json").write_text("{not json")
    return builtin_dir


async def run(settings, builtin_root: Path, check, caplog) -> None:
    async with FakeDiscord(quiet_period=0.05) as fake:
        guild = fake.add_guild("G")
        user = fake.add_user("u")
        fake.add_member(guild, user)
        bot = LSTMBot(settings, sync_commands=True, builtin_root=builtin_root)
        with caplog.at_level(logging.ERROR):
            async with running_bot(fake, bot):
                await check(fake, guild, user)
        fake.assert_no_violations()


async def generate(fake, guild, user, **options):
    ix = await fake.invoke(guild, user, "generate", {"seed": "The", "temperature": 0.5, **options})
    await ix.wait_for(lambda i: i.done and "writing" not in (i.content or ""), 15)
    return await answered(ix)


async def test_broken_builtins_are_listed_unavailable_and_refused_privately(
    settings, broken_builtins, caplog
):
    async def check(fake, guild, user):
        listing = await answered(await fake.invoke(guild, user, "model list"))
        fields = {f["name"]: f["value"] for f in listing.embeds[0]["fields"]}
        assert "unavailable" in fields["cracked"] and "unavailable" in fields["nocard"]
        assert "unavailable" not in fields[DEFAULT]
        for name in ("cracked", "nocard"):
            ix = await generate(fake, guild, user, model=name, length=20)
            assert private(ix) and f"`{name}` is unavailable" in reply(ix)
            info = await answered(await fake.invoke(guild, user, "model info", {"name": name}))
            assert private(info) and "unavailable" in reply(info)
        ok = await generate(fake, guild, user, length=20)
        assert "20 characters" in ok.content

    await run(settings, broken_builtins, check, caplog)
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "cracked" in logged and "nocard" in logged


async def test_a_broken_default_model_does_not_stop_the_bot(settings, broken_builtins, caplog):
    settings = settings.replace(default_model="cracked")

    async def check(fake, guild, user):
        ix = await generate(fake, guild, user, length=20)
        assert private(ix) and "`cracked` is unavailable" in reply(ix)
        ok = await generate(fake, guild, user, model=DEFAULT, length=20)
        assert "20 characters" in ok.content

    await run(settings, broken_builtins, check, caplog)
    assert any("cracked" in r.getMessage() for r in caplog.records)


async def test_a_servers_model_broken_on_disk(env, tiny_model, caplog):
    record = await env.add_guild_model(env.guild_a, env.alice, "mine", tiny_model.artifact)
    damage_weights(Path(record.path))
    with caplog.at_level(logging.ERROR):
        ix = await env.fake.invoke(
            env.guild_a, env.alice, "generate", {"seed": "The", "temperature": 0.5, "model": "mine"}
        )
        await answered(ix)
    assert private(ix) and "corrupted" in reply(ix)
    assert any("mine" in r.getMessage() for r in caplog.records)
    listing = await answered(await env.fake.invoke(env.guild_a, env.alice, "model list"))
    fields = {f["name"]: f["value"] for f in listing.embeds[0]["fields"]}
    assert "unavailable" in fields["mine"]
    again = await answered(
        await env.fake.invoke(
            env.guild_a, env.alice, "generate", {"seed": "The", "temperature": 0.5, "model": "mine"}
        )
    )
    assert private(again) and "`mine` is unavailable" in reply(again)
    other = await answered(
        await env.fake.invoke(
            env.guild_a, env.alice, "generate", {"seed": "The", "temperature": 0.5, "length": 20}
        )
    )
    assert "20 characters" in other.content
    # Its owner can still delete it.
    delete = await answered(
        await env.fake.invoke(env.guild_a, env.alice, "model delete", {"name": "mine"})
    )
    assert "can't be undone" in reply(delete)

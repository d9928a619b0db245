"""/generate through the fake Discord server."""

from __future__ import annotations

import time

import pytest

from cogs.writing import writer
from model_store.sampling import BatchSampler

from ..conftest import HOLD
from .helpers import answered, private, reply, wait_until


async def test_generate_streams_then_final_edit(env, monkeypatch):
    step = BatchSampler.step

    def slow_step(self):  # the tiny model writes 1200 characters in a blink: slow it down
        time.sleep(0.002)
        return step(self)

    monkeypatch.setattr(BatchSampler, "step", slow_step)
    monkeypatch.setattr(writer, "EDIT_INTERVAL", 0.0)  # edit at every update seen
    env.bot.settings = env.settings.replace(max_length=5000)
    ix = await env.fake.invoke(
        env.guild_a, env.alice, "generate", {"seed": "The cat", "temperature": 0.5, "length": 1200}
    )
    await ix.wait_content(lambda c: c and "characters" in c and "writing" not in c, timeout=30)
    assert ix.deferred and not ix.ephemeral and not ix.ack_violation
    assert ix.content.startswith("**The cat**")
    assert "basic · temperature 0.5 · 1200 characters" in ix.content
    streamed = [c for _, c in ix.edits[:-1]]
    assert streamed and all(c.startswith("**The cat**") and "writing…" in c for c in streamed)


async def test_streamed_edits_are_throttled(env, monkeypatch):
    monkeypatch.setattr(writer, "EDIT_INTERVAL", 3600.0)
    ix = await env.fake.invoke(
        env.guild_a, env.alice, "generate", {"seed": "The cat", "temperature": 0.5, "length": 1000}
    )
    await ix.wait_content(lambda c: c and "1000 characters" in c, timeout=30)
    assert len(ix.edits) == 1  # no edit before the interval: only the final one


async def test_same_rng_seed_same_text_and_batched_requests(env, gate):
    opts = {"seed": HOLD, "temperature": 1.0, "length": 300, "rng_seed": 7}
    first = await env.fake.invoke(env.guild_a, env.alice, "generate", opts)
    second = await env.fake.invoke(env.guild_a, env.carol, "generate", opts)
    # Both requests are in the engine before it takes its next step: they must share it.
    await wait_until(lambda: env.bot.generation.in_flight == 2, what="both requests in flight")
    gate.set()
    for ix in (first, second):
        await ix.wait_content(lambda c: c and "300 characters" in c, timeout=30)
    assert first.content == second.content
    (engine,) = env.bot.generation.engines()
    assert engine.peak_batch == 2
    assert engine.steps < 2 * (len(HOLD) + 300)  # one step advanced both


async def test_long_text_goes_as_attachment(env):
    env.bot.settings = env.settings.replace(max_length=5000)
    ix = await env.fake.invoke(
        env.guild_a, env.alice, "generate", {"seed": "The", "temperature": 0.5, "length": 2500}
    )
    await ix.wait_for(lambda i: i.files, timeout=60)
    ((name, data),) = ix.files
    assert name == "generated.txt"
    text = data.decode()
    assert text.startswith("The") and len(text) == 2503
    assert len(ix.content) <= 2000


@pytest.mark.parametrize(
    "options, expected",
    [
        ({"seed": "The", "temperature": 0.5, "model": "nope"}, "no model called `nope`"),
        ({"seed": "   ", "temperature": 0.5}, "seed is empty"),
        ({"seed": "The", "temperature": 0.5, "length": 4000}, "longest I write"),
    ],
)
async def test_bad_input_gets_ephemeral_error(env, options, expected):
    ix = await env.fake.invoke(env.guild_a, env.alice, "generate", options)
    await answered(ix)
    assert private(ix) and expected in reply(ix)


async def test_seed_of_unknown_characters(env):
    ix = await env.fake.invoke(
        env.guild_a, env.alice, "generate", {"seed": "☃☃☃", "temperature": 0.5}
    )
    await ix.wait_for(lambda i: i.followups, timeout=10)
    (msg,) = ix.followups
    assert private(ix) and "can't continue that seed" in msg.content
    assert ix.original.deleted  # the public placeholder went away


async def test_ranges_are_declared_and_enforced(env):
    command = env.fake.find_command("generate")
    options = {o["name"]: o for o in command["options"]}
    assert options["temperature"]["min_value"] == 0 and options["temperature"]["max_value"] == 2
    assert options["length"]["min_value"] == 1
    assert all(o.get("description") for o in options.values())
    # A client that ignores the declared range still gets a clear answer, not a crash.
    ix = await env.fake.invoke(
        env.guild_a, env.alice, "generate", {"seed": "The", "temperature": 3.5}
    )
    await answered(ix)
    assert private(ix) and "Out of range" in reply(ix)


async def test_mentions_never_ping(env):
    ix = await env.fake.invoke(
        env.guild_a,
        env.alice,
        "generate",
        {"seed": "@everyone <@123> <@&456> The", "temperature": 0.5, "length": 50},
    )
    await ix.wait_content(lambda c: c and "50 characters" in c, timeout=30)
    assert "@everyone" in reply(ix) and "<@123>" in reply(ix)
    assert ix.allowed_mentions is not None
    assert env.fake.take_violations() == []


async def test_cooldown(env):
    env.bot.settings = env.settings.replace(generate_cooldown=60)
    first = await env.fake.invoke(
        env.guild_a, env.alice, "generate", {"seed": "The", "temperature": 0.5, "length": 20}
    )
    await first.wait_content(lambda c: c and "20 characters" in c, timeout=30)
    second = await env.fake.invoke(
        env.guild_a, env.alice, "generate", {"seed": "The", "temperature": 0.5, "length": 20}
    )
    await answered(second)
    assert private(second) and "Slow down" in reply(second)


async def test_autocomplete_lists_visible_models_only(env, tiny_model):
    await env.add_guild_model(env.guild_a, env.alice, "alpha", tiny_model.artifact)
    await env.add_guild_model(env.guild_b, env.bob, "bravo", tiny_model.artifact)
    for i in range(30):
        await env.add_guild_model(env.guild_a, env.alice, f"many-{i:02d}", tiny_model.artifact)
    a = await env.fake.autocomplete(
        env.guild_a,
        env.alice,
        "generate",
        focused="model",
        value="",
        options={"seed": "x", "temperature": 0.5},
    )
    assert len(a) == 25
    names = [
        c["value"]
        for c in await env.fake.autocomplete(
            env.guild_a,
            env.alice,
            "generate",
            focused="model",
            value="a",
            options={"seed": "x", "temperature": 0.5},
        )
    ]
    assert names[0] == "alpha" and "bravo" not in names and "basic" in names
    b = [
        c["value"]
        for c in await env.fake.autocomplete(
            env.guild_b,
            env.bob,
            "generate",
            focused="model",
            value="",
            options={"seed": "x", "temperature": 0.5},
        )
    ]
    assert b == ["basic", "bravo"]


async def test_other_servers_model_cannot_be_used(env, tiny_model):
    await env.add_guild_model(env.guild_b, env.bob, "secret", tiny_model.artifact)
    ix = await env.fake.invoke(
        env.guild_a, env.alice, "generate", {"seed": "The", "temperature": 0.5, "model": "secret"}
    )
    await answered(ix)
    assert private(ix) and "no model called `secret`" in reply(ix)
    ok = await env.fake.invoke(
        env.guild_b,
        env.bob,
        "generate",
        {"seed": "The", "temperature": 0.5, "model": "secret", "length": 30},
    )
    await ok.wait_content(
        lambda c: c and "secret · temperature" in c and "30 char" in c, timeout=30
    )

"""/model list | info | delete through the fake Discord server, with the scoping rules."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from model_store import ModelStore


async def test_list_shows_builtin_and_own_models_only(env, tiny_model):
    await env.add_guild_model(env.guild_a, env.alice, "alpha", tiny_model.artifact)
    await env.add_guild_model(env.guild_b, env.bob, "bravo", tiny_model.artifact)
    ix = await env.fake.invoke(env.guild_a, env.alice, "model list")
    await ix.wait_done(timeout=10)
    (embed,) = ix.embeds
    names = [f["name"] for f in embed["fields"]]
    assert names == ["basic", "alpha"]
    assert f"<@{env.alice.id}>" in embed["fields"][1]["value"]
    assert "nats/char" in embed["fields"][0]["value"]


async def test_list_pages(env, tiny_model):
    for i in range(12):
        await env.add_guild_model(env.guild_a, env.alice, f"m{i:02d}", tiny_model.artifact)
    ix = await env.fake.invoke(env.guild_a, env.alice, "model list")
    await ix.wait_done(timeout=10)
    assert "page 1/2" in ix.embeds[0]["footer"]["text"]
    click = await env.fake.click(ix, env.alice, _custom_id(ix, "Next"))
    await click.wait_done(timeout=10)
    assert "page 2/2" in ix.original.embeds[0]["footer"]["text"]
    stranger = await env.fake.click(ix, env.carol, _custom_id(ix, "Previous"))
    await stranger.wait_done(timeout=10)
    assert stranger.ephemeral and "yourself" in stranger.content


def _custom_id(ix, label: str) -> str:
    for row in ix.original.components:
        for comp in row["components"]:
            if comp.get("label") == label:
                return comp["custom_id"]
    raise AssertionError(f"no button {label!r}")


async def test_info_shows_card_and_sample(env):
    ix = await env.fake.invoke(env.guild_a, env.alice, "model info", {"name": "basic"})
    await ix.wait_for(lambda i: i.embeds, timeout=15)
    (embed,) = ix.embeds
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert embed["title"] == "Model basic"
    assert "nats/char" in fields["Held-out loss"] and fields["Made by"] == "built-in"
    assert "uniform guess: " in fields["Held-out loss"]
    assert fields["Sample (temperature 0.5)"].startswith("The ")


async def test_delete_by_owner_with_confirmation(env, tiny_model):
    record = await env.add_guild_model(env.guild_a, env.alice, "gone", tiny_model.artifact)
    ix = await env.fake.invoke(env.guild_a, env.alice, "model delete", {"name": "gone"})
    await ix.wait_done(timeout=10)
    assert ix.ephemeral and "can't be undone" in ix.content
    assert await env.bot.registry.get(env.guild_a.id, "gone") is not None  # not yet
    confirm = await env.fake.click(ix, env.alice, _custom_id(ix, "Delete"))
    await confirm.wait_done(timeout=10)
    assert "Deleted `gone`" in ix.original.content
    assert await env.bot.registry.get(env.guild_a.id, "gone") is None
    assert not Path(record.path).exists()


async def test_delete_cancel_keeps_model(env, tiny_model):
    await env.add_guild_model(env.guild_a, env.alice, "kept", tiny_model.artifact)
    ix = await env.fake.invoke(env.guild_a, env.alice, "model delete", {"name": "kept"})
    await ix.wait_done(timeout=10)
    cancel = await env.fake.click(ix, env.alice, _custom_id(ix, "Cancel"))
    await cancel.wait_done(timeout=10)
    assert "Nothing was deleted" in ix.original.content
    assert await env.bot.registry.get(env.guild_a.id, "kept") is not None


async def test_delete_permissions_and_builtin(env, tiny_model):
    await env.add_guild_model(env.guild_a, env.alice, "alices", tiny_model.artifact)
    await env.add_guild_model(env.guild_b, env.bob, "bobs", tiny_model.artifact)
    denied = await env.fake.invoke(env.guild_a, env.carol, "model delete", {"name": "alices"})
    await denied.wait_done(timeout=10)
    assert denied.ephemeral and "Manage Server" in denied.content
    builtin = await env.fake.invoke(env.guild_a, env.admin, "model delete", {"name": "basic"})
    await builtin.wait_done(timeout=10)
    assert builtin.ephemeral and "built-in" in builtin.content
    other = await env.fake.invoke(env.guild_a, env.admin, "model delete", {"name": "bobs"})
    await other.wait_done(timeout=10)
    assert other.ephemeral and "no model called `bobs`" in other.content
    assert await env.bot.registry.get(env.guild_b.id, "bobs") is not None
    # A member with Manage Server may delete someone else's model.
    ok = await env.fake.invoke(env.guild_a, env.admin, "model delete", {"name": "alices"})
    await ok.wait_done(timeout=10)
    confirm = await env.fake.click(ok, env.admin, _custom_id(ok, "Delete"))
    await confirm.wait_done(timeout=10)
    assert await env.bot.registry.get(env.guild_a.id, "alices") is None


async def test_other_server_cannot_see_info(env, tiny_model):
    await env.add_guild_model(env.guild_b, env.bob, "hidden", tiny_model.artifact)
    ix = await env.fake.invoke(env.guild_a, env.alice, "model info", {"name": "hidden"})
    await ix.wait_done(timeout=10)
    assert ix.ephemeral and "no model called" in ix.content


async def test_delete_removes_a_kept_corpus_too(env, tiny_model):
    job, _ = await env.bot.jobs.submit(
        guild_id=env.guild_a.id,
        channel_id=1,
        user_id=env.alice.id,
        model_name="kept-corpus",
        corpus=b"some uploaded text",
        params={"effort": "quick"},
    )
    store = ModelStore(env.settings.guild_model_path / str(env.guild_a.id))
    path = store.save(dataclasses.replace(tiny_model.artifact, name="kept-corpus"))
    record = await env.bot.registry.add(
        name="kept-corpus",
        guild_id=env.guild_a.id,
        owner_id=env.alice.id,
        card=tiny_model.artifact.card,
        path=str(path),
        job_id=job.id,
    )
    await env.bot.get_cog("Models").delete_model(record)
    assert await env.bot.registry.get(env.guild_a.id, "kept-corpus") is None
    assert not path.exists()
    assert (await env.bot.jobs.get(job.id)).corpus_deleted
    assert await env.bot.jobs.files(job.id, "corpus") == {}

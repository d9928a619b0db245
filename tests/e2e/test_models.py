"""/model list | info | delete through the fake Discord server, with the scoping rules."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from model_store import ModelStore

from ..conftest import HOLD
from .helpers import answered, private, reply, wait_until


async def test_list_shows_builtin_and_own_models_only(env, tiny_model):
    await env.add_guild_model(env.guild_a, env.alice, "alpha", tiny_model.artifact)
    await env.add_guild_model(env.guild_b, env.bob, "bravo", tiny_model.artifact)
    ix = await env.fake.invoke(env.guild_a, env.alice, "model list")
    await answered(ix)
    (embed,) = ix.embeds
    names = [f["name"] for f in embed["fields"]]
    assert names == ["basic", "alpha"]
    assert embed["fields"][0]["value"].startswith("⭐ default ·")  # what /generate uses here
    assert f"<@{env.alice.id}>" in embed["fields"][1]["value"]
    assert "nats/char" in embed["fields"][0]["value"]


async def test_list_pages(env, tiny_model):
    for i in range(12):
        await env.add_guild_model(env.guild_a, env.alice, f"m{i:02d}", tiny_model.artifact)
    ix = await env.fake.invoke(env.guild_a, env.alice, "model list")
    await answered(ix)
    assert "page 1/2" in ix.embeds[0]["footer"]["text"]
    click = await env.fake.click(ix, env.alice, _custom_id(ix, "Next"))
    await answered(click)
    assert "page 2/2" in ix.original.embeds[0]["footer"]["text"]
    stranger = await env.fake.click(ix, env.carol, _custom_id(ix, "Previous"))
    await answered(stranger)
    assert private(stranger) and "yourself" in reply(stranger)


async def confirmed(click, ix) -> None:
    """The Delete click is answered at once ("Deleting…"); wait until it is done."""
    await answered(click)
    await ix.wait_content(lambda c: c.startswith("Deleted"), timeout=15)


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
    # the creation time is the embed's timestamp (each reader sees it in their own time zone
    # and language), not an ISO string in the footer
    assert embed["footer"]["text"] == "created" and embed["timestamp"].startswith("20")


async def test_delete_by_owner_with_confirmation(env, tiny_model):
    record = await env.add_guild_model(env.guild_a, env.alice, "gone", tiny_model.artifact)
    ix = await env.fake.invoke(env.guild_a, env.alice, "model delete", {"name": "gone"})
    await answered(ix)
    assert private(ix) and "can't be undone" in reply(ix)
    assert await env.bot.registry.get(env.guild_a.id, "gone") is not None  # not yet
    confirm = await env.fake.click(ix, env.alice, _custom_id(ix, "Delete"))
    await confirmed(confirm, ix)
    assert "Deleted `gone`" in ix.original.content
    assert await env.bot.registry.get(env.guild_a.id, "gone") is None
    assert not Path(record.path).exists()


async def test_delete_cancel_keeps_model(env, tiny_model):
    await env.add_guild_model(env.guild_a, env.alice, "kept", tiny_model.artifact)
    ix = await env.fake.invoke(env.guild_a, env.alice, "model delete", {"name": "kept"})
    await answered(ix)
    cancel = await env.fake.click(ix, env.alice, _custom_id(ix, "Cancel"))
    await answered(cancel)
    assert "Nothing was deleted" in ix.original.content
    assert await env.bot.registry.get(env.guild_a.id, "kept") is not None


async def test_delete_permissions_and_builtin(env, tiny_model):
    await env.add_guild_model(env.guild_a, env.alice, "alices", tiny_model.artifact)
    await env.add_guild_model(env.guild_b, env.bob, "bobs", tiny_model.artifact)
    denied = await env.fake.invoke(env.guild_a, env.carol, "model delete", {"name": "alices"})
    await answered(denied)
    assert private(denied) and "Manage Server" in reply(denied)
    builtin = await env.fake.invoke(env.guild_a, env.admin, "model delete", {"name": "basic"})
    await answered(builtin)
    assert private(builtin) and "built-in" in reply(builtin)
    other = await env.fake.invoke(env.guild_a, env.admin, "model delete", {"name": "bobs"})
    await answered(other)
    assert private(other) and "no model called `bobs`" in reply(other)
    assert await env.bot.registry.get(env.guild_b.id, "bobs") is not None
    # A member with Manage Server may delete someone else's model.
    ok = await env.fake.invoke(env.guild_a, env.admin, "model delete", {"name": "alices"})
    await answered(ok)
    confirm = await env.fake.click(ok, env.admin, _custom_id(ok, "Delete"))
    await confirmed(confirm, ok)
    assert await env.bot.registry.get(env.guild_a.id, "alices") is None


async def test_other_server_cannot_see_info(env, tiny_model):
    await env.add_guild_model(env.guild_b, env.bob, "hidden", tiny_model.artifact)
    ix = await env.fake.invoke(env.guild_a, env.alice, "model info", {"name": "hidden"})
    await answered(ix)
    assert private(ix) and "no model called" in reply(ix)


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
        job=(await env.bot.jobs.identity(), job.id),
    )
    await env.bot.get_cog("Models").deletion.delete(record)
    assert await env.bot.registry.get(env.guild_a.id, "kept-corpus") is None
    assert not path.exists()
    assert (await env.bot.jobs.get(job.id)).corpus_deleted
    assert await env.bot.jobs.files(job.id, "corpus") == {}


async def test_deleting_a_model_mid_generation_ends_every_reply(env, tiny_model, gate, monkeypatch):
    """Issue 7.1: requests in flight on a deleted model end with a clear, private message."""
    from cogs.models import commands as models

    monkeypatch.setattr(models, "SAMPLE_SEED", HOLD)
    await env.add_guild_model(env.guild_a, env.alice, "going", tiny_model.artifact)
    gen = await env.fake.invoke(
        env.guild_a,
        env.carol,
        "generate",
        {"seed": HOLD, "temperature": 0.5, "model": "going", "length": 100},
    )
    info = await env.fake.invoke(env.guild_a, env.carol, "model info", {"name": "going"})
    await wait_until(lambda: env.bot.generation.in_flight == 2, what="both requests in flight")
    ix = await answered(
        await env.fake.invoke(env.guild_a, env.alice, "model delete", {"name": "going"})
    )
    await confirmed(await env.fake.click(ix, env.alice, _custom_id(ix, "Delete")), ix)
    gate.set()
    for waiting in (gen, info):
        await answered(waiting)
        assert private(waiting) and "`going` was deleted while I was writing" in reply(waiting)


async def test_the_bots_owner_may_delete_any_model_and_cancel_any_job(env, tiny_model):
    """LSTM_BOT_OWNER_ID's promise (.env.example): any model, any job, on servers they use."""
    operator = env.fake.add_user("operator")
    env.fake.add_member(env.guild_a, operator)  # no permissions of their own here
    env.bot.owner_id = operator.id  # what LSTMBot does with settings.owner_id
    await env.add_guild_model(env.guild_a, env.alice, "alices", tiny_model.artifact)
    job, _ = await env.bot.jobs.submit(
        guild_id=env.guild_a.id,
        channel_id=env.guild_a.default_channel.id,
        user_id=env.alice.id,
        model_name="queued",
        corpus=b"some text",
        params={"effort": "quick"},
    )
    ix = await answered(
        await env.fake.invoke(env.guild_a, operator, "model delete", {"name": "alices"})
    )
    await confirmed(await env.fake.click(ix, operator, _custom_id(ix, "Delete")), ix)
    assert await env.bot.registry.get(env.guild_a.id, "alices") is None
    cancel = await answered(
        await env.fake.invoke(env.guild_a, operator, "job cancel", {"id": job.id})
    )
    assert "Cancelled job" in reply(cancel)

"""Issue 18, findings 1 and 6: a write that acts on a model captured earlier (a delete
confirmation, a server's default) acts on that very model or on nothing: model ids are never
reused, and every such write checks the server, the name and the id."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.registry import ModelGone

from .helpers import answered, private, reply


def _custom_id(ix, label: str) -> str:
    for row in ix.original.components:
        for comp in row["components"]:
            if comp.get("label") == label:
                return comp["custom_id"]
    raise AssertionError(f"no button {label!r}")


async def ask_delete(env, name: str, user=None):
    user = user or env.alice
    return await answered(await env.fake.invoke(env.guild_a, user, "model delete", {"name": name}))


async def confirm(env, ix, user=None):
    await env.fake.click(ix, user or env.alice, _custom_id(ix, "Delete"))
    await ix.wait_content(lambda c: not c.startswith(("Delete `", "Deleting")), timeout=15)
    return ix.original.content


async def test_a_stale_delete_confirmation_deletes_nothing_else(env, tiny_model):
    """Two dialogs for server A's newest model; one is confirmed; then another server's model
    and a new model of the same name arrive: confirming the second dialog deletes neither."""
    await env.add_guild_model(env.guild_a, env.alice, "newest", tiny_model.artifact)
    first, second = await ask_delete(env, "newest"), await ask_delete(env, "newest")
    assert "Deleted `newest`" in await confirm(env, first)
    bobs = await env.add_guild_model(env.guild_b, env.bob, "bobs", tiny_model.artifact)
    again = await env.add_guild_model(env.guild_a, env.alice, "newest", tiny_model.artifact)
    done = await confirm(env, second)
    assert "already been deleted" in done and private(second)
    assert await env.bot.registry.get(env.guild_b.id, "bobs") == bobs
    assert await env.bot.registry.get(env.guild_a.id, "newest") == again
    assert Path(bobs.path).exists() and Path(again.path).exists()


async def test_model_ids_are_never_reused(env, tiny_model):
    record = await env.add_guild_model(env.guild_a, env.alice, "one", tiny_model.artifact)
    await env.bot.get_cog("Models").deletion.delete(record)
    newer = await env.add_guild_model(env.guild_b, env.bob, "two", tiny_model.artifact)
    assert newer.id > record.id


async def test_a_registry_write_on_a_record_that_changed_does_nothing(env, tiny_model):
    """The registry itself refuses a record whose server, name or id no longer match."""
    record = await env.add_guild_model(env.guild_a, env.alice, "kept", tiny_model.artifact)
    for stale in (
        dataclasses.replace(record, name="other"),
        dataclasses.replace(record, guild_id=env.guild_b.id),
        dataclasses.replace(record, id=record.id + 1000),
    ):
        with pytest.raises(ModelGone):
            await env.bot.registry.hide(stale)
    assert await env.bot.registry.get(env.guild_a.id, "kept") == record
    assert Path(record.path).exists()


async def test_a_registry_from_before_keeps_its_models_and_reuses_no_id(tmp_path):
    """Migration 0005 rebuilds the models table of an existing database: rows and ids kept,
    and from then on a deleted model's id is never given again; a default chosen by name
    becomes the id of the model it named."""
    from bot.db import REGISTRY_MIGRATIONS
    from jobs.db import Database, split_sql

    path = tmp_path / "bot.sqlite3"
    async with Database(path) as db:  # the registry as version 4 made it
        for version, _, sql in REGISTRY_MIGRATIONS.files():
            for statement in split_sql(sql) if version <= 4 else []:
                await db.execute(statement)
        await db.execute("PRAGMA user_version = 4")
        for i in (1, 2):
            await db.execute(
                "INSERT INTO models (id, name, guild_id, card, path, created_at, job_id)"
                " VALUES (?, ?, 7, '{}', '/x', '', ?)",
                (i, f"m{i}", i),
            )
        await db.execute("INSERT INTO guild_settings VALUES (7, 'm2'), (8, 'm1'), (9, NULL)")
    async with Database(path, [REGISTRY_MIGRATIONS]) as db:
        rows = await db.fetchall("SELECT id, name, job_id FROM models ORDER BY id")
        assert [tuple(r) for r in rows] == [(1, "m1", 1), (2, "m2", 2)]
        rows = await db.fetchall("SELECT * FROM guild_settings ORDER BY guild_id")
        assert [tuple(r) for r in rows] == [(7, 2), (8, None), (9, None)]  # m1 isn't 8's
        await db.execute("DELETE FROM models WHERE id = 2")
        await db.execute(
            "INSERT INTO models (name, guild_id, card, path, created_at)"
            " VALUES ('n', 7, '{}', '/y', '')"
        )
        row = await db.fetchone("SELECT id FROM models WHERE name = 'n'")
        assert row[0] == 3


async def test_a_model_being_deleted_never_becomes_the_default(env, tiny_model, monkeypatch):
    """/model default looks the model up, then the model is deleted, then the default is
    stored: it must not be, and a later model of the same name must not become the default."""
    import asyncio

    from bot.registry import ModelRegistry

    record = await env.add_guild_model(env.guild_a, env.alice, "mine", tiny_model.artifact)
    looked_up, go = asyncio.Event(), asyncio.Event()
    get = ModelRegistry.get

    async def held_get(self, guild_id, name):
        found = await get(self, guild_id, name)
        if name == "mine" and not go.is_set():
            looked_up.set()
            await go.wait()
        return found

    monkeypatch.setattr(ModelRegistry, "get", held_get)
    ix = await env.fake.invoke(env.guild_a, env.admin, "model default", {"name": "mine"})
    await asyncio.wait_for(looked_up.wait(), 15)
    await env.bot.get_cog("Models").deletion.delete(record)
    go.set()
    await answered(ix)
    assert private(ix) and "has just been deleted" in reply(ix)
    await env.add_guild_model(env.guild_a, env.alice, "mine", tiny_model.artifact)
    assert await env.bot.guild_settings.chosen_model(env.guild_a.id) is None
    gen = await env.fake.invoke(
        env.guild_a, env.carol, "generate", {"seed": "The", "temperature": 0, "length": 20}
    )
    await gen.wait_for(lambda i: i.done and "writing…" not in (i.content or ""), 30, "the reply")
    assert "basic · temperature 0 ·" in gen.original.content


async def test_a_default_stays_with_its_model_not_its_name(env, tiny_model):
    """The default names one model: deleted (even without the bot seeing it, as after a crash
    mid-delete), a new model of the same name does not inherit it."""
    record = await env.add_guild_model(env.guild_a, env.alice, "mine", tiny_model.artifact)
    ix = await answered(
        await env.fake.invoke(env.guild_a, env.admin, "model default", {"name": "mine"})
    )
    assert "is now this server's default" in reply(ix)
    await env.bot.registry.hide(record)  # the bot stopped here; start-up finishes the delete
    await env.bot.registry.remove(record)
    await env.add_guild_model(env.guild_a, env.alice, "mine", tiny_model.artifact)
    assert await env.bot.guild_settings.chosen_model(env.guild_a.id) is None
    assert await env.bot.guild_settings.default_model(env.guild_a.id) == "basic"

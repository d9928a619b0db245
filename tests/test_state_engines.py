"""The bot's state (registry, server settings, unfinished replies) on either engine: the
SQLite file or PostgreSQL (LSTM_BOT_DATABASE_URL); several processes on one PostgreSQL
database see each other's writes, and a delete closes the others' engines (LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from bot.db import bot_database
from bot.guild_settings import GuildSettings
from bot.registry import ModelGone, ModelRegistry, NameInUse
from cogs.writing.reply_text import ReplyState
from cogs.writing.unfinished import Unfinished, UnfinishedReplies
from model_store import ModelCatalog, ModelStore

from .conftest import _admin

GUILD, OTHER = 7 << 22, 9 << 40  # ids as large as Discord's


@pytest.fixture
def catalog(tmp_path: Path, tiny_model) -> ModelCatalog:
    root = tmp_path / "builtin"
    ModelStore(root).save(dataclasses.replace(tiny_model.artifact, name="basic"))
    return ModelCatalog(tmp_path / "models", root)


def state(tmp_path: Path, url: str | None):
    return bot_database(tmp_path / "bot.sqlite3", embedded_queue=False, url=url)


async def add(registry: ModelRegistry, name: str, guild: int = GUILD, job=None):
    return await registry.add(
        name=name, guild_id=guild, owner_id=5, card={"a": 1}, path=f"/m/{guild}/{name}", job=job
    )


async def test_the_registry_on_either_engine(tmp_path, state_url, catalog) -> None:
    async with state(tmp_path, state_url) as db:
        registry = ModelRegistry(db, catalog)
        assert await registry.sync_builtins() == ["basic"]
        assert await registry.sync_builtins() == ["basic"]  # again: the same row
        mine = await add(registry, "mine", job=("q1", 3))
        assert mine.card == {"a": 1} and mine.job_id == 3 and mine.job_queue == "q1"
        assert await add(registry, "again", job=("q1", 3)) == mine  # a job's result: once
        with pytest.raises(NameInUse):
            await add(registry, "basic")
        other = await add(registry, "mine", guild=OTHER)
        assert [r.name for r in await registry.visible(GUILD)] == ["basic", "mine"]
        assert await registry.get(GUILD, "mine") == mine
        assert await registry.by_id(OTHER, mine.id) is None
        assert await registry.by_job("q1", 3) == mine
        assert await registry.count(GUILD) == 1 and await registry.name_taken(OTHER, "basic")
        with pytest.raises(ModelGone):
            await registry.hide(dataclasses.replace(mine, guild_id=OTHER))
        await registry.hide(mine)
        with pytest.raises(ModelGone):
            await registry.hide(mine)
        assert await registry.get(GUILD, "mine") is None
        await registry.remove(mine)
        newer = await add(registry, "mine")
        assert newer.id > other.id > mine.id  # ids are never reused
        assert len(await registry.all_rows()) == 3


async def test_legacy_results_on_either_engine(tmp_path, state_url, catalog) -> None:
    async with state(tmp_path, state_url) as db:
        registry = ModelRegistry(db, catalog)
        old = await add(registry, "old")
        await db.execute("UPDATE models SET job_id = ? WHERE id = ?", (11, old.id))
        assert await registry.legacy_job_ids() == [11]
        assert await registry.adopt_results("q", {11: old.id}) == 1
        assert (await registry.by_job("q", 11)).id == old.id


async def test_guild_settings_on_either_engine(tmp_path, state_url, catalog) -> None:
    async with state(tmp_path, state_url) as db:
        registry = ModelRegistry(db, catalog)
        await registry.sync_builtins()
        settings = GuildSettings(db, registry, "basic")
        mine = await add(registry, "mine")
        assert await settings.default_model(GUILD) == "basic"
        await settings.set_default_model(GUILD, mine)
        await settings.set_default_model(GUILD, mine)  # again: one row
        assert await settings.chosen_model(GUILD) == mine
        assert await settings.forget_model(mine) and not await settings.forget_model(mine)
        assert await settings.default_model(GUILD) == "basic"
        await settings.set_default_model(GUILD, mine)
        await registry.hide(mine)
        assert await settings.default_model(GUILD) == "basic"
        with pytest.raises(ModelGone):
            await settings.set_default_model(GUILD, mine)
        await settings.set_default_model(GUILD, None)
        assert await settings.chosen_model(GUILD) is None


async def test_unfinished_replies_on_either_engine(tmp_path, state_url) -> None:
    async with state(tmp_path, state_url) as db:
        replies = UnfinishedReplies(db)
        state_ = ReplyState(12, "basic", 0.5, 400, 1.0, 7, None)
        first = Unfinished(1 << 60, 2 << 50, GUILD, state_, "tr")
        await replies.begin(first)
        await replies.begin(dataclasses.replace(first, locale="pt-BR"))  # replaced
        await replies.begin(Unfinished(3, 4, None, state_, "en-US"))
        found = await replies.all()
        assert [(u.message_id, u.guild_id, u.locale) for u in found] == [
            (1 << 60, GUILD, "pt-BR"),
            (3, None, "en-US"),
        ]
        await db.execute("UPDATE unfinished_replies SET state = 'nonsense' WHERE message_id = 3")
        assert [u.message_id for u in await replies.all()] == [1 << 60]  # the bad one dropped
        await replies.forget(1 << 60)
        assert await replies.all() == []


async def test_two_processes_on_one_postgres_see_each_others_writes(
    tmp_path, pg_state_url, catalog
) -> None:
    async with state(tmp_path, pg_state_url) as one, state(tmp_path, pg_state_url) as two:
        first, second = ModelRegistry(one, catalog), ModelRegistry(two, catalog)
        await first.sync_builtins()
        await second.sync_builtins()
        mine = await add(first, "mine")
        assert await second.get(GUILD, "mine") == mine
        with pytest.raises(NameInUse):
            await add(second, "mine")
        await GuildSettings(one, first, "basic").set_default_model(GUILD, mine)
        assert await GuildSettings(two, second, "basic").default_model(GUILD) == "mine"
        await second.hide(mine)
        await second.remove(mine)
        assert await first.get(GUILD, "mine") is None
        assert await GuildSettings(one, first, "basic").default_model(GUILD) == "basic"


class Engines:
    """What the change watch sees of a GenerationService: the loaded paths, closed ones."""

    def __init__(self, *paths: str):
        self.paths, self.closed = set(paths), asyncio.Event()

    def loaded_paths(self) -> list[str]:
        return sorted(self.paths)

    def evict(self, path: str) -> None:
        self.paths.discard(path)
        self.closed.set()


async def test_a_delete_in_one_process_closes_the_others_engine(
    tmp_path, state_url, catalog
) -> None:
    """On PostgreSQL by LISTEN/NOTIFY, on SQLite by its change counter: no test of time."""
    from bot.change_watch import ChangeWatcher

    async with state(tmp_path, state_url) as one, state(tmp_path, state_url) as two:
        mine = await add(ModelRegistry(one, catalog), "mine")
        kept = await add(ModelRegistry(one, catalog), "kept")
        engines = Engines(mine.path, kept.path)
        watcher = ChangeWatcher(two, engines, poll_seconds=0.05)
        watcher.start()
        try:
            await watcher.ready.wait()
            await ModelRegistry(one, catalog).hide(mine)
            await asyncio.wait_for(engines.closed.wait(), 10)
        finally:
            await watcher.stop()
        assert engines.loaded_paths() == [kept.path]


async def test_postgres_state_without_its_schema_says_what_to_run(tmp_path, pg_url) -> None:
    from bot.pg_migrate import STATE_MIGRATIONS, StateSchemaError, migrate_state

    with pytest.raises(StateSchemaError, match=r"no schema yet: run `lstm-bot db migrate`"):
        await state(tmp_path, pg_url).open()
    first = await migrate_state(pg_url)
    assert "applied 0001_state.sql" in first
    assert await migrate_state(pg_url) == "up to date"
    _admin(pg_url, "UPDATE schema_versions SET version = version + 1 WHERE component = 'bot'")
    with pytest.raises(StateSchemaError, match="newer than this lstm-bot.*upgrade lstm-bot"):
        await state(tmp_path, pg_url).open()
    _admin(pg_url, "UPDATE schema_versions SET version = 0 WHERE component = 'bot'")
    with pytest.raises(
        StateSchemaError, match="older than this lstm-bot: run `lstm-bot db migrate`"
    ):
        await state(tmp_path, pg_url).open()
    assert STATE_MIGRATIONS.component == "bot"


def builtins_at(root: Path, tiny_model) -> ModelCatalog:
    ModelStore(root / "builtin").save(dataclasses.replace(tiny_model.artifact, name="basic"))
    return ModelCatalog(root / "models", root / "builtin")


async def test_machines_installed_in_other_folders_keep_their_own_builtins(
    tmp_path, pg_state_url, tiny_model
) -> None:
    """Each machine syncs its built-in models' folders into the shared rows: a machine still
    finds its own copy, and another's sync never closes its engine as if it were deleted."""
    from bot.change_watch import ChangeWatcher

    here, there = builtins_at(tmp_path / "a", tiny_model), builtins_at(tmp_path / "b", tiny_model)
    async with state(tmp_path, pg_state_url) as one, state(tmp_path, pg_state_url) as two:
        first, second = ModelRegistry(one, here), ModelRegistry(two, there)
        await first.sync_builtins()
        mine = await add(first, "mine")
        basic = await first.get(None, "basic")
        engines = Engines(basic.path, mine.path)
        watcher = ChangeWatcher(one, engines, poll_seconds=0.05, keep=first.is_builtin_path)
        watcher.start()
        try:
            await watcher.ready.wait()
            await second.sync_builtins()  # rewrites the shared row with the other folder
            assert (await second.get(GUILD, "basic")).path.startswith(str(tmp_path / "b"))
            assert (await first.get(GUILD, "basic")).path == basic.path
            await second.hide(mine)
            await asyncio.wait_for(engines.closed.wait(), 10)
        finally:
            await watcher.stop()
        assert engines.loaded_paths() == [basic.path]
        settings = GuildSettings(one, first, "basic")
        await settings.set_default_model(GUILD, basic)
        assert (await settings.chosen_model(GUILD)).path == basic.path


def drop_connections(url: str) -> None:
    """What a PostgreSQL restart or failover does to a client: every connection cut."""
    _admin(
        url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )


async def test_lost_connections_are_made_again(tmp_path, pg_state_url, catalog) -> None:
    """Reads come back on new connections; the change watch listens again, and a delete
    made after is still seen."""
    from bot.change_watch import ChangeWatcher

    async with state(tmp_path, pg_state_url) as one, state(tmp_path, pg_state_url) as two:
        mine = await add(ModelRegistry(one, catalog), "mine")
        engines = Engines(mine.path)
        watcher = ChangeWatcher(two, engines, poll_seconds=0.05)
        watcher.start()
        try:
            await watcher.ready.wait()
            drop_connections(pg_state_url)
            assert await ModelRegistry(two, catalog).get(GUILD, "mine") == mine
            await ModelRegistry(one, catalog).hide(mine)
            await asyncio.wait_for(engines.closed.wait(), 20)
        finally:
            await watcher.stop()


def test_the_state_lock_is_no_other_lock() -> None:
    """State and queue share one database: their advisory lock keys must differ (the state's
    once took the queue's takeover key, so a state transaction could hold a takeover back)."""
    from bot.pg_state import TRANSACTION_LOCK
    from jobs.pg_schema import MIGRATE_LOCK
    from jobs.pg_worker import _TAKEOVER_LOCK

    assert len({TRANSACTION_LOCK, MIGRATE_LOCK, _TAKEOVER_LOCK}) == 3


async def test_the_heartbeat_goes_on_while_changes_cant_be_watched(
    tmp_path, state_url, monkeypatch
) -> None:
    """The shard claims' heartbeat shares the change watch's task: a listening connection
    that can't be had (no connection left on the server, a pooler in transaction mode) must
    not silence it, or another machine would take this running process's shards."""
    from bot import change_watch
    from bot.change_watch import ChangeWatcher

    class Broken:
        async def changed(self) -> bool:
            raise OSError("too many connections")

        async def close(self) -> None:
            return None

    monkeypatch.setattr(change_watch.Backoff, "next", lambda self: 0.01)
    beats = asyncio.Event()
    count = 0

    async def heartbeat() -> None:
        nonlocal count
        count += 1
        if count >= 3:
            beats.set()

    async with state(tmp_path, state_url) as db:
        watcher = ChangeWatcher(db, Engines(), heartbeat=heartbeat, heartbeat_seconds=0.0)
        monkeypatch.setattr(watcher, "_signal", lambda: Broken())
        watcher.start()
        try:
            await asyncio.wait_for(beats.wait(), 10)
        finally:
            await watcher.stop()

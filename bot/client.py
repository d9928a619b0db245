"""The Discord client: a ``commands.Bot`` that owns the database and the services."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import discord
from discord.ext import commands

from jobs.engine import open_queue
from jobs.queue import JobQueue
from jobs.records import Servers
from model_store import ModelCatalog, ModelStoreError
from model_store.store import BUILTIN_DIR

from .change_watch import ChangeWatcher
from .cooldown import WritingCooldown
from .db import bot_database
from .generation import GenerationService
from .guild_settings import GuildSettings
from .i18n.translator import CatalogueTranslator
from .in_flight import Flights
from .model_files import model_files_for
from .pacing import Pacing
from .registry import ModelRegistry
from .settings import Settings
from .sharding import (
    HEARTBEAT_SECONDS,
    STALE_SECONDS,
    ShardClaims,
    ShardConflict,
    format_shard_ids,
    identify_slot,
)
from .transfer import ResultImporter, sweep_orphans
from .tree import BotTree

log = logging.getLogger(__name__)

# HTTP connections to Discord's REST API at most (discord.py's own default: no limit, so a
# burst of 500 replies opened, and on Discord TLS-handshook, 500 connections at once).
HTTP_CONNECTIONS = 100

EXTENSIONS = (
    "cogs.writing",
    "cogs.models",
    "cogs.training",
    "cogs.privacy",
)


class LSTMBot(commands.AutoShardedBot):
    def __init__(
        self,
        settings: Settings,
        *,
        extensions: tuple[str, ...] = EXTENSIONS,
        sync_commands: bool = False,
        builtin_root: Path = BUILTIN_DIR,
        claims: bool = True,
    ):
        """``claims``: take part in the bot's shards (record them with the other bot
        processes, tidy what this process's servers left: orphaned model folders, replies left
        mid-write); False for a bot against a fake Discord beside the real one (the console)."""
        pacing = Pacing()
        super().__init__(
            http_trace=pacing.trace_config(),  # learns the rate-limit buckets (bot.pacing)
            command_prefix=commands.when_mentioned,
            # Slash commands and REST only: no message, typing or presence events to parse
            # (every edit of every reply would otherwise come back as a MESSAGE_UPDATE).
            intents=discord.Intents(guilds=True),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=BotTree,
            help_command=None,
            owner_id=settings.owner_id,
            shard_count=settings.shard_count,
            shard_ids=_list(settings.shard_id_list),
        )
        self.settings = settings
        self.pacing = pacing
        self.extensions_to_load = extensions
        self.sync_commands = sync_commands
        self.claims = claims
        self.db = bot_database(
            settings.database_path,
            embedded_queue=not settings.queue_conninfo,
            url=settings.state_conninfo,
        )
        self.catalog = ModelCatalog(settings.model_path, builtin_root)
        # Where servers' models live: the data folder; blobs in PostgreSQL when the bot's
        # state is there (LSTM_BOT_DATABASE_URL).
        self.model_files = model_files_for(settings, settings.state_conninfo)
        self.registry = ModelRegistry(self.db, self.catalog, self.model_files)
        self.guild_settings = GuildSettings(self.db, self.registry, settings.default_model)
        self.generation = GenerationService(
            settings.model_cache_size,
            on_load_error=self.registry.mark_broken,
            resolve=self.model_files.local_path,
        )
        self.cooldown = WritingCooldown(lambda: self.settings.generate_cooldown)
        self.flights = Flights()  # the work in flight (replies being written): shutdowns wait
        self.jobs: JobQueue  # opened in setup_hook
        self.importer: ResultImporter
        self.shard_claims = ShardClaims(self.db)
        self.max_concurrency = 1
        self.changes = ChangeWatcher(
            self.db,
            self.generation,
            heartbeat=self._heartbeat,
            heartbeat_seconds=HEARTBEAT_SECONDS,
            keep=self.registry.is_builtin_path,
            after_change=self.model_files.sweep_cache,
        )
        # Said after "Queued job #N" when no worker will take it (the console without the
        # train extra); None on a real deployment, whose workers run elsewhere.
        self.worker_hint: str | None = None
        self.failed_extensions: dict[str, str] = {}
        self.started_at = time.monotonic()
        # Run once the shards are claimed, before connecting (the writing feature finishes the
        # replies an earlier process left mid-write).
        self.after_claim: list[Callable[[], Awaitable[None]]] = []
        self._closing: asyncio.Future[None] | None = None
        self.lost_shards: tuple[int, ...] = ()  # taken over by another process: it stopped
        self._stop_task: asyncio.Task[None] | None = None

    async def login(self, token: str) -> None:
        """discord.py's login, on a pool of ``HTTP_CONNECTIONS`` connections: requests beyond
        it wait (in order) for one to be free rather than open another."""
        connector = self.http.connector
        if connector is discord.utils.MISSING or connector.closed:
            self.http.connector = aiohttp.TCPConnector(limit=HTTP_CONNECTIONS)
        await super().login(token)

    async def setup_hook(self) -> None:
        await self.db.open()
        await self.model_files.open()
        settings = self.settings
        self.jobs = await open_queue(
            queue_url=settings.queue_conninfo,
            db=self.db,
            lease_seconds=settings.lease_seconds,
            max_attempts=settings.max_attempts,
        )
        self.importer = ResultImporter(
            self.jobs, self.registry, settings.guild_model_path, settings.data_dir, self.model_files
        )
        builtins = await self.registry.sync_builtins()
        # Orphaned model folders are swept once the shards are claimed (launch_shards), in
        # this process's servers only: another process may be importing into the others.
        await self.importer.adopt_legacy()
        log.info("bot state in %s; built-in models: %s", settings.state_shown, ", ".join(builtins))
        log.info("training jobs queue: %s", settings.queue_shown)
        broken = await self.registry.check_builtins()
        if broken:  # logged one by one; the bot serves every other model
            log.error("unavailable built-in models (files damaged): %s", ", ".join(broken))
        await self.tree.set_translator(CatalogueTranslator())
        for name in self.extensions_to_load:
            try:
                await self.load_extension(name)
            except Exception as exc:  # one broken cog must not stop the others
                self.failed_extensions[name] = repr(exc)
                log.exception("could not load extension %s", name)
        if self.sync_commands:
            await self.tree.sync()
        self.changes.start()
        default = await self.registry.get(None, self.settings.default_model)
        if default is None:
            log.error("the default model %r does not exist", self.settings.default_model)
        elif self.registry.problem(default) is None:  # warm the cache: a fast first /generate
            try:
                await self.generation.engine(default.path, default.checksum, default.name)
            except ModelStoreError:
                pass  # marked broken (and logged) by the registry; other models still work
        freeze_startup_objects()

    async def launch_shards(self) -> None:
        """Only when connecting (not for ``lstm-bot sync``): claim the shards, then tidy."""
        await self.claim_shards()
        if self.claims:  # not the console's to tidy: the real bot's, maybe running
            await sweep_orphans(self.registry, self.settings.guild_model_path, self.holds_guild)
            for hook in self.after_claim:
                await hook()
        await super().launch_shards()

    async def claim_shards(self) -> None:
        """Settle the shard count (Discord's recommendation unless set) and this process's
        shards, and record them; :class:`ShardConflict` when another process disagrees."""
        count, _, limits = await self.http.get_bot_gateway()
        self.max_concurrency = int(limits.get("max_concurrency") or 1)
        if self.shard_count is None:
            self.shard_count = count
        if self.shard_ids is None:
            self.shard_ids = list(range(self.shard_count))
        if self.claims:
            await self.shard_claims.claim(self.shard_count, tuple(self.shard_ids))
        log.info("shards %s of %d", format_shard_ids(self.shard_ids), self.shard_count)

    @property
    def servers(self) -> Servers | None:
        """The servers this process serves (its shards'); None: every server."""
        count, ids = self.shard_count, self.shard_ids
        if count is None or ids is None or len(ids) == count:
            return None
        return Servers(count, tuple(ids))

    def holds_guild(self, guild_id: int | None) -> bool:
        """Whether this process serves that server (DMs: shard 0's process)."""
        servers = self.servers
        return servers is None or servers.holds(guild_id)

    async def _heartbeat(self) -> None:
        """Refresh the shard claims; stop when another process took them over (this one was
        cut off from the database long enough to look gone): never answer a server twice."""
        lost = await self.shard_claims.refresh()
        if lost and not self.lost_shards:
            self.lost_shards = lost
            log.error(
                "shards %s were taken over by another bot process (this one looked gone: cut "
                "off from the database for %.0f s?): stopping",
                format_shard_ids(lost),
                STALE_SECONDS,
            )
            self._stop_task = asyncio.create_task(self.close())  # not awaited: it stops us

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """One IDENTIFY per 5 s per bucket, over every process of the bot (one process
        holding every shard: discord.py's own pacing, as for the small bot)."""
        if self.shard_count is None or len(self.shard_ids or ()) == self.shard_count:
            await super().before_identify_hook(shard_id, initial=initial)
            return
        wait = await identify_slot(self.db, shard_id or 0, self.max_concurrency)
        if wait > 0:
            await asyncio.sleep(wait)

    async def on_ready(self) -> None:
        log.info(
            "ready as %s in %d guild(s), %.1f s after start",
            self.user,
            len(self.guilds),
            time.monotonic() - self.started_at,
        )

    async def close(self) -> None:
        """Stop: refuse new work ("restarting"), give the replies being written
        ``LSTM_BOT_SHUTDOWN_GRACE`` seconds, end the rest with their text and "stopped: press
        Continue"; only then close the gateway and the HTTP session, and the rest."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close())
        await asyncio.shield(self._closing)

    async def _close(self) -> None:
        try:
            await self.flights.land(self.settings.shutdown_grace)
            await self.changes.stop()
            await super().close()
            self.generation.close()
            if hasattr(self, "jobs"):
                await self.jobs.close()
            await self.model_files.close()
        finally:
            if self.db.is_open:
                await self.shard_claims.release()
            await self.db.close()


_frozen = False


def freeze_startup_objects() -> None:
    """Once per process, at the end of the first start: collect, then move every object that
    exists (modules, discord.py, numpy, the default model: about 80,000) out of the cyclic
    garbage collector's sight (``gc.freeze``). Its full collections then walk only what was
    made since: measured under 1,000 /generate at once (benchmarks/bot_load.py), they had been
    the event loop's longest stalls (50-110 ms each, at the burst of arrivals and of final
    edits)."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


async def serve(bot: LSTMBot, token: str) -> None:
    """Run ``bot`` until it stops. SIGTERM or SIGINT (Ctrl-C) closes it cleanly
    (:meth:`LSTMBot.close`: the replies being written finish or end with "press Continue");
    a second one cuts the grace period short."""
    loop = asyncio.get_running_loop()
    closing: list[asyncio.Task[None]] = []

    def stop() -> None:
        if closing:
            bot.flights.hurry()
        else:
            closing.append(asyncio.create_task(bot.close()))

    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop)
        except (NotImplementedError, RuntimeError):  # (not on this platform's loop)
            log.warning("can't handle signal %s: stopping won't wait for replies", sig.name)
    try:
        await bot.start(token)
    finally:
        await asyncio.gather(*closing)
        await bot.close()
    if bot.lost_shards:
        raise ShardConflict(
            f"shards {format_shard_ids(bot.lost_shards)} were taken over by another bot process"
            " while this one was cut off from the database: it stopped"
        )


def _list(ids: tuple[int, ...] | None) -> list[int] | None:
    return None if ids is None else list(ids)


async def sync_tree(bot: commands.Bot, guild_id: int | None = None) -> list:
    """Register the commands with Discord: globally, or copied to one guild (instant)."""
    if guild_id is None:
        return await bot.tree.sync()
    guild = discord.Object(id=guild_id)
    bot.tree.copy_global_to(guild=guild)
    return await bot.tree.sync(guild=guild)

"""``FakeDiscord``: the aiohttp server (REST + gateway) and the API tests drive it with."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from . import interactions as ix_types
from . import shards
from .faults import Faults
from .gateway import (
    FAKE_KEY,
    HEARTBEAT_ACK_DELAY,
    HEARTBEAT_INTERVAL,
    INTENT_GUILD_MEMBERS,
    INVALID_SESSION,
    RECONNECT,
    GatewaySession,
    gateway_handler,
)
from .interactions import FakeInteraction, build_command_data, modal_submit_components
from .limits import RateLimits
from .models import (
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeMessage,
    FakeUser,
    snowflake,
)
from .rest import Rest, make_middleware
from .state import DEFAULT_BOT_PERMISSIONS, FakeState

log = logging.getLogger(__name__)

_MESSAGE_EVENTS = ("MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE")


@contextlib.contextmanager
def point_discord_at(api_url: str, ws_url: str, compression: str | None = None) -> Iterator[None]:
    """Point this process's discord.py at a fake's URLs (and restore them afterwards): what
    :meth:`FakeDiscord.patch_discord` does, usable in another process than the fake's."""
    import discord.gateway
    import discord.http
    import discord.utils
    import yarl

    if compression not in (None, "zlib-stream"):
        raise ValueError("compression must be None or 'zlib-stream'")
    route, ws_cls = discord.http.Route, discord.gateway.DiscordWebSocket
    old_base, old_gateway = route.BASE, ws_cls.DEFAULT_GATEWAY
    old_context = discord.utils._ActiveDecompressionContext
    route.BASE = api_url
    ws_cls.DEFAULT_GATEWAY = yarl.URL(ws_url)
    if compression == "zlib-stream":
        discord.utils._ActiveDecompressionContext = ZlibStreamContext
    try:
        yield
    finally:
        route.BASE, ws_cls.DEFAULT_GATEWAY = old_base, old_gateway
        discord.utils._ActiveDecompressionContext = old_context


class ZlibStreamContext:
    """A zlib-stream decompressor with discord.py's ``_DecompressionContext`` interface."""

    COMPRESSION_TYPE = "zlib-stream"

    def __init__(self) -> None:
        self._obj = zlib.decompressobj()
        self._buffer = bytearray()

    def decompress(self, data: bytes, /) -> str | None:
        self._buffer.extend(data)
        if len(data) < 4 or data[-4:] != b"\x00\x00\xff\xff":
            return None
        text = self._obj.decompress(self._buffer).decode()
        self._buffer = bytearray()
        return text


@dataclass(frozen=True)
class FakeAddress:
    """A fake Discord serving in another process, for ``running_bot`` (as a benchmark does,
    to keep the fake's work out of the bot's event loop)."""

    api_url: str
    ws_url: str
    started: bool = True

    def patch_discord(self, compression: str | None = None) -> contextlib.AbstractContextManager:
        return point_discord_at(self.api_url, self.ws_url, compression)


class FakeDiscord(FakeState):
    """A fake Discord (REST API v10 + gateway) on 127.0.0.1 for the real discord.py client.

    Build the world (``add_guild``, ``add_user``, ``add_member``...), ``await start()``, point
    discord.py at it with ``patch_discord()``, run a bot (see ``fake_discord.testing``), then
    drive it: ``invoke``, ``autocomplete``, ``click``, ``submit_modal``, ``send_message``.

    ``ack_timeout`` is Discord's 3 s limit to answer an interaction (lower it in tests);
    ``token_ttl`` the 15 minutes an interaction token stays valid; ``quiet_period`` how long
    ``FakeInteraction.wait_done`` waits for no further activity. ``heartbeat_interval`` is
    what HELLO asks for (41.25 s); each heartbeat is ACKed ``heartbeat_ack_delay`` later (a
    network round trip, see ``GatewaySession._ack_heartbeat``).

    ``rate_limits`` (on by default) enforces Discord's REST rate limits and its
    invalid-request counter (``invalid_request_limit`` per 10 minutes), see
    :mod:`fake_discord.limits`; ``faults`` is the fraction of REST requests that meet a fault
    (:mod:`fake_discord.faults`).
    """

    def __init__(
        self,
        *,
        bot_name: str = "lstm-bot",
        ack_timeout: float = 3.0,
        token_ttl: float = 15 * 60.0,
        quiet_period: float = 0.3,
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
        host: str = "127.0.0.1",
        port: int = 0,
        heartbeat_interval: float = HEARTBEAT_INTERVAL,
        heartbeat_ack_delay: float = HEARTBEAT_ACK_DELAY,
        rate_limits: bool = True,
        invalid_request_limit: int = 10_000,
        faults: float = 0.0,
    ) -> None:
        super().__init__(
            bot_name=bot_name,
            ack_timeout=ack_timeout,
            token_ttl=token_ttl,
            quiet_period=quiet_period,
            bot_permissions=bot_permissions,
        )
        self.host = host
        self.port = port
        self.heartbeat_interval = heartbeat_interval
        self.heartbeat_ack_delay = heartbeat_ack_delay
        #: Set to stop answering heartbeats (a missing ACK: clients should reconnect).
        self.drop_heartbeat_acks = False
        #: Discord's rate limits (``fake.limits.enabled = False`` turns them off).
        self.limits = RateLimits(
            enabled=rate_limits, invalid_limit=invalid_request_limit, clock=self.now
        )
        #: REST faults on demand (``fake.faults.rate = 0.05``).
        self.faults = Faults(rate=faults)
        self.interactions: list[FakeInteraction] = []
        self._ix_by_id: dict[int, FakeInteraction] = {}
        self._ix_by_token: dict[str, FakeInteraction] = {}
        self._sessions: list[GatewaySession] = []
        self._sessions_by_id: dict[str, GatewaySession] = {}
        self._events: asyncio.Queue[tuple[str, dict[str, Any]]] | None = None
        self._pump: asyncio.Task[None] | None = None
        self._timers: list[asyncio.TimerHandle] = []
        self._runner: web.AppRunner | None = None
        self.sharding = shards.Sharding()

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def started(self) -> bool:
        return self._runner is not None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v10"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    @property
    def address(self) -> FakeAddress:
        """Where this fake listens, to hand to a bot in another process."""
        return FakeAddress(self.api_url, self.ws_url)

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[make_middleware(self)], client_max_size=64 * 1024**2)
        app[FAKE_KEY] = self
        app.router.add_get("/gateway", gateway_handler)
        app.router.add_get("/gateway/", gateway_handler)
        app.router.add_routes(Rest(self).routes())
        return app

    async def start(self) -> FakeDiscord:
        if self._runner is not None:
            return self
        self._runner = web.AppRunner(self.make_app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        if self.port == 0 and server is not None and server.sockets:  # type: ignore[union-attr]
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._events = asyncio.Queue()
        self._pump = asyncio.create_task(self._pump_events(), name="fake-discord-events")
        log.info("fake Discord listening on %s", self.base_url)
        return self

    async def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for session in list(self._sessions):
            await session.ws.close(code=1001, message=b"fake Discord shutting down")
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
            self._pump = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @contextlib.contextmanager
    def patch_discord(self, compression: str | None = None) -> Iterator[FakeDiscord]:
        """Point discord.py's REST base URL and default gateway at this fake (and restore).

        ``compression="zlib-stream"`` makes discord.py use zlib-stream even where it would
        pick zstd-stream (it does when ``zstandard`` is importable); ``None`` leaves its choice.
        """
        if not self.started:
            raise RuntimeError("await fake.start() before patch_discord()")
        with point_discord_at(self.api_url, self.ws_url, compression):
            yield self

    # -- gateway events ---------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        """Whether a bot has identified on the gateway and is still connected."""
        return any(s.ready for s in self._sessions)

    async def wait_connected(self, timeout: float = 10.0) -> None:
        await self.wait_until(lambda: self.connected, timeout)

    @property
    def resumable(self) -> bool:
        """Whether a bot is connected, or disconnected with a session it may RESUME."""
        now = self.now()
        return self.connected or any(s.can_resume(now) for s in self._sessions_by_id.values())

    async def disconnect_bots(self, code: int = 4000) -> None:
        """Close every gateway connection (4000: discord.py reconnects and RESUMEs; every
        event emitted meanwhile, interactions included, is replayed to it then)."""
        for session in list(self._sessions):
            await session.close(code, b"disconnected by the test")

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT to every bot (discord.py closes, reconnects and RESUMEs)."""
        for session in list(self._sessions):
            await session.send({"op": RECONNECT, "d": None})

    async def invalidate_sessions(self) -> None:
        """Send op 9 INVALID_SESSION (not resumable): the bot must IDENTIFY again, and what
        happens until then is lost to it, as on Discord."""
        for session in list(self._sessions_by_id.values()):
            session.resumable = False
        for session in list(self._sessions):
            await session.send({"op": INVALID_SESSION, "d": False})

    def _emit(self, event: str, data: dict[str, Any]) -> None:
        if self._events is not None:
            self._events.put_nowait((event, data))

    async def _pump_events(self) -> None:
        assert self._events is not None
        while True:
            event, data = await self._events.get()
            targets = dict.fromkeys([*self._sessions, *self._sessions_by_id.values()])
            for session in targets:
                if not shards.receives(session.shard, event, data):
                    continue
                if session.ready:
                    payload = self._event_for(session, event, data)
                    if payload is not None:
                        await session.dispatch(event, payload)
                elif session.can_resume(self.now()):
                    session.backlog.append((event, data))  # replayed on RESUME

    def _event_for(
        self, session: GatewaySession, event: str, data: dict[str, Any]
    ) -> dict[str, Any] | None:
        if event == "GUILD_CREATE":
            return session.guild_create(data)
        if event == "GUILD_MEMBER_ADD":
            return data if session.intents & INTENT_GUILD_MEMBERS else None
        if event not in _MESSAGE_EVENTS:
            return data
        dm = "guild_id" not in data
        if not session.wants_message(dm=dm):
            return None
        author = (data.get("author") or {}).get("id")
        mentioned = f"<@{self.bot_user.id}>" in data.get("content", "") or any(
            m.get("id") == str(self.bot_user.id) for m in data.get("mentions", [])
        )
        if event == "MESSAGE_DELETE" or session.has_message_content() or dm or mentioned:
            return data
        if author == str(self.bot_user.id):
            return data
        return data | {"content": "", "embeds": [], "attachments": [], "components": []}

    # -- interactions -----------------------------------------------------------------------
    def _resolve_place(
        self, guild: FakeGuild | None, user: FakeUser | FakeMember, channel: FakeChannel | None
    ) -> tuple[FakeUser, FakeChannel]:
        if isinstance(user, FakeMember):
            user = user.user
        if not self.resumable:  # (while a bot reconnects, its RESUME gets what it missed)
            raise RuntimeError("no bot is connected to the fake gateway (is it running/ready?)")
        if channel is None:
            channel = guild.default_channel if guild is not None else self.dm_channel(user)
        if guild is not None and user.id not in guild.members:
            raise ValueError(f"{user.name} is not a member of {guild.name}; use fake.add_member")
        return user, channel

    def _dispatch_interaction(
        self,
        kind: int,
        name: str,
        guild: FakeGuild | None,
        user: FakeUser,
        channel: FakeChannel,
        data: dict[str, Any],
        message: FakeMessage | None = None,
    ) -> FakeInteraction:
        ix_id = snowflake()
        token = f"ix.{ix_id}.{secrets.token_urlsafe(24)}"
        payload: dict[str, Any] = {
            "id": str(ix_id),
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "token": token,
            "version": 1,
            "channel_id": str(channel.id),
            "channel": channel.to_payload(),
            "locale": user.locale,
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if guild is not None:
            perms = guild.permissions_for(user.id)
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": guild.preferred_locale, "features": []},
                guild_locale=guild.preferred_locale,
                member=guild.members[user.id].to_payload(permissions=perms),
                app_permissions=str(guild.permissions_for(self.bot_user.id)),
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
            payload["channel"]["permissions"] = str(perms)
        else:
            payload.update(
                user=user.to_payload(),
                app_permissions=str(self.bot_permissions),
                authorizing_integration_owners={"1": str(user.id)},
                context=1,
            )
        if message is not None:
            payload["message"] = self.message_payload(message)
        ix = FakeInteraction(
            fake=self,
            id=ix_id,
            token=token,
            type=kind,
            name=name,
            guild=guild,
            channel=channel,
            user=user,
            payload=payload,
            dispatched_at=self.now(),
            message=message,
        )
        ix.last_activity = ix.dispatched_at
        self.interactions.append(ix)
        self._ix_by_id[ix_id] = ix
        self._ix_by_token[token] = ix
        self._emit("INTERACTION_CREATE", payload)
        loop = asyncio.get_running_loop()
        self._timers = [t for t in self._timers if t.when() > loop.time() and not t.cancelled()]
        self._timers.append(loop.call_later(self.ack_timeout, self._flag_unacked, ix))
        return ix

    def _flag_unacked(self, ix: FakeInteraction, late_by: float | None = None) -> None:
        if ix.acked or ix.ack_violation:
            return
        ix.ack_violation = True
        late = f" (callback came after {late_by:.2f}s)" if late_by is not None else ""
        self.violation(
            "ack_timeout",
            f"interaction {ix.name!r} not acknowledged within {self.ack_timeout}s{late}",
        )

    async def invoke(
        self,
        guild: FakeGuild | None,
        user: FakeUser | FakeMember,
        command: str,
        options: dict[str, Any] | None = None,
        *,
        subcommand: str | None = None,
        group: str | None = None,
        channel: FakeChannel | None = None,
    ) -> FakeInteraction:
        """A user runs a slash command; returns at once (see ``FakeInteraction`` waits).

        ``command`` may hold the whole path (``"model list"``), or use ``group=`` /
        ``subcommand=``. Option values are plain Python values, ``FakeAttachment``,
        ``FakeUser``/``FakeMember``, ``FakeRole`` or ``FakeChannel``. With ``guild=None`` the
        command runs in the user's DMs with the bot.
        """
        user_, channel_ = self._resolve_place(guild, user, channel)
        path = ix_types.command_path(command, subcommand, group)
        data = build_command_data(self, guild, path, dict(options or {}))
        return self._dispatch_interaction(
            ix_types.APPLICATION_COMMAND, " ".join(path), guild, user_, channel_, data
        )

    async def invoke_message_command(
        self,
        guild: FakeGuild | None,
        user: FakeUser | FakeMember,
        name: str,
        message: FakeMessage,
    ) -> FakeInteraction:
        """A user picks the message command ``name`` (right-click a message > Apps) on
        ``message``; returns at once. As Discord does, the interaction carries the message
        in ``data.resolved.messages`` with its content, whatever the bot's intents."""
        if message.deleted or message.ephemeral:
            raise ValueError("that message can't be the target of a command (deleted/ephemeral)")
        channel = self.channels[message.channel_id]
        user_, channel_ = self._resolve_place(guild, user, channel)
        command = self.find_command(name, guild, type=ix_types.MESSAGE_COMMAND)
        if command is None:
            raise ValueError(f"no message command named {name!r} was synced")
        data: dict[str, Any] = {
            "id": command["id"],
            "name": name,
            "type": ix_types.MESSAGE_COMMAND,
            "target_id": str(message.id),
            "resolved": {"messages": {str(message.id): self.message_payload(message)}},
        }
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        return self._dispatch_interaction(
            ix_types.APPLICATION_COMMAND, name, guild, user_, channel_, data
        )

    async def autocomplete(
        self,
        guild: FakeGuild | None,
        user: FakeUser | FakeMember,
        command: str,
        *,
        focused: str,
        value: Any = "",
        options: dict[str, Any] | None = None,
        subcommand: str | None = None,
        group: str | None = None,
        channel: FakeChannel | None = None,
        timeout: float = 5.0,
    ) -> list[dict[str, Any]]:
        """A user types ``value`` into option ``focused``; returns the bot's choices."""
        user_, channel_ = self._resolve_place(guild, user, channel)
        path = ix_types.command_path(command, subcommand, group)
        opts = dict(options or {})
        opts[focused] = value
        data = build_command_data(self, guild, path, opts, focused=focused)
        ix = self._dispatch_interaction(
            ix_types.AUTOCOMPLETE, " ".join(path), guild, user_, channel_, data
        )
        await ix.wait_for(lambda i: i.choices is not None or bool(i.rejected), timeout, "choices")
        return list(ix.choices or [])

    async def click(
        self,
        target: FakeMessage | FakeInteraction,
        user: FakeUser | FakeMember,
        custom_id: str,
        *,
        values: list[str] | None = None,
    ) -> FakeInteraction:
        """A user clicks a button (or picks ``values`` in a select) on a bot message.

        ``target`` is the message, or an interaction: then its @original and followups are
        searched for the component.
        """
        candidates = target.messages if isinstance(target, FakeInteraction) else [target]
        for msg in reversed(candidates):
            component = msg.find_component(custom_id)
            if component is not None:
                break
        else:
            ids = [cid for m in candidates for cid in m.custom_ids()]
            raise LookupError(f"no component {custom_id!r} on the message(s); found {ids}")
        if component.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled; Discord would not send it")
        channel = self.channels[msg.channel_id]
        guild = self.guilds.get(msg.guild_id) if msg.guild_id else None
        user_, channel_ = self._resolve_place(guild, user, channel)
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component["type"]}
        if component["type"] != 2:
            data["values"] = list(values or [])
        return self._dispatch_interaction(
            ix_types.MESSAGE_COMPONENT, custom_id, guild, user_, channel_, data, message=msg
        )

    async def submit_modal(
        self, ix: FakeInteraction, user: FakeUser | FakeMember, values: dict[str, Any]
    ) -> FakeInteraction:
        """Submit the modal the bot opened in answer to ``ix`` (text inputs by custom_id)."""
        if ix.modal is None:
            raise LookupError(f"the bot opened no modal for {ix.describe()}")
        user_, channel_ = self._resolve_place(ix.guild, user, ix.channel)
        data = {
            "custom_id": ix.modal["custom_id"],
            "components": modal_submit_components(ix.modal.get("components") or [], values),
        }
        return self._dispatch_interaction(
            ix_types.MODAL_SUBMIT,
            ix.modal["custom_id"],
            ix.guild,
            user_,
            channel_,
            data,
            message=ix.message,
        )

    async def send_message(
        self,
        channel: FakeChannel,
        user: FakeUser | FakeMember,
        content: str = "",
        *,
        attachments: list[FakeAttachment] | None = None,
    ) -> FakeMessage:
        """A user posts a message in a channel (delivered as MESSAGE_CREATE)."""
        if isinstance(user, FakeMember):
            user = user.user
        return self.create_message(
            channel, user, {"content": content}, attachments=list(attachments or [])
        )

    def interaction(self, name: str) -> FakeInteraction:
        """The latest interaction with this name (command path or custom_id)."""
        for ix in reversed(self.interactions):
            if ix.name == name:
                return ix
        raise LookupError(f"no interaction named {name!r}")

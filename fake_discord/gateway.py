"""The fake gateway: one ``GatewaySession`` per websocket connection.

Speaks JSON over text frames, or over binary frames with ``compress=zlib-stream`` (one zlib
stream per connection, every message ended with a Z_SYNC_FLUSH) or ``compress=zstd-stream``
(one zstd stream, every message ended with a flushed block; only when a zstd module is
importable here, as it then is for discord.py too). Any other ``compress`` value falls back to
plain JSON text frames, which discord.py also accepts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
import zlib
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import WSMsgType, web

from . import shards

if TYPE_CHECKING:
    from .server import FakeDiscord

log = logging.getLogger(__name__)

FAKE_KEY: web.AppKey[FakeDiscord] = web.AppKey("fake")

HEARTBEAT_INTERVAL = 41.25  # seconds, as Discord sends it in HELLO
HEARTBEAT_ACK_DELAY = 0.03  # seconds: a network round trip to a real gateway
RESUME_WINDOW = 120.0  # seconds a disconnected session may be resumed (and events kept)

# Opcodes.
DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE_STATE = 0, 1, 2, 3, 4
RESUME, RECONNECT, REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 6, 7, 8, 9, 10, 11

# Intents the fake honours when deciding what to send.
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15


class _Compressor(Protocol):
    def compress(self, data: bytes) -> bytes: ...


class _ZlibStream:
    def __init__(self) -> None:
        self._obj = zlib.compressobj()

    def compress(self, data: bytes) -> bytes:
        return self._obj.compress(data) + self._obj.flush(zlib.Z_SYNC_FLUSH)


def _zstd_compressor() -> _Compressor | None:
    try:
        import zstandard  # type: ignore[import-not-found]
    except ImportError:
        pass
    else:
        obj = zstandard.ZstdCompressor().compressobj()

        class _Zstandard:
            def compress(self, data: bytes) -> bytes:
                return obj.compress(data) + obj.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)

        return _Zstandard()
    try:
        from compression import zstd  # type: ignore[import-not-found]
    except ImportError:
        return None
    comp = zstd.ZstdCompressor()

    class _StdlibZstd:
        def compress(self, data: bytes) -> bytes:
            return comp.compress(data, mode=zstd.ZstdCompressor.FLUSH_BLOCK)

    return _StdlibZstd()


def make_compressor(kind: str | None) -> _Compressor | None:
    if kind == "zlib-stream":
        return _ZlibStream()
    if kind == "zstd-stream":
        comp = _zstd_compressor()
        if comp is None:
            log.warning("zstd-stream requested but no zstd module here; sending plain JSON")
        return comp
    if kind:
        log.warning("unsupported gateway compression %r; sending plain JSON", kind)
    return None


class GatewaySession:
    """One client connection to the fake gateway."""

    def __init__(self, fake: FakeDiscord, ws: web.WebSocketResponse, compress: str | None) -> None:
        self.fake = fake
        self.ws = ws
        self.compression = compress
        self._compressor = make_compressor(compress)
        self._lock = asyncio.Lock()
        self.seq = 0
        self.session_id: str | None = None
        self.intents = 0
        self.shard: list[int] | None = None
        self.identified = False
        self.sent: list[dict[str, Any]] = []  # every payload sent, for debugging
        #: Whether a RESUME may take this session over once it is disconnected (not after
        #: INVALID_SESSION, nor after the bot closed it with 1000/1001).
        self.resumable = True
        self.backlog: list[tuple[str, dict[str, Any]]] = []  # events while disconnected
        self.closed_by_fake = False
        self.disconnected_at: float | None = None
        self.replayed = 0  # events replayed on RESUME
        self.heartbeats = 0  # received
        self.heartbeat_acks = 0  # sent
        self._acks: set[asyncio.Future[None]] = set()

    @property
    def ready(self) -> bool:
        return self.identified and not self.ws.closed

    def can_resume(self, now: float) -> bool:
        """Disconnected, and still resumable (for ``RESUME_WINDOW`` seconds)."""
        if not (self.identified and self.resumable and self.ws.closed):
            return False
        if self.disconnected_at is not None and now - self.disconnected_at > RESUME_WINDOW:
            self.resumable, self.backlog = False, []
        return self.resumable

    async def send(self, payload: dict[str, Any]) -> None:
        async with self._lock:
            if self.ws.closed:
                return
            text = json.dumps(payload)
            self.sent.append(payload)
            try:
                if self._compressor is None:
                    await self.ws.send_str(text)
                else:
                    await self.ws.send_bytes(self._compressor.compress(text.encode()))
            except (ConnectionError, RuntimeError) as exc:
                log.debug("gateway send failed: %s", exc)

    async def close(self, code: int, message: bytes) -> None:
        self.closed_by_fake = True
        await self.ws.close(code=code, message=message)

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        async with self._lock:
            self.seq += 1
            seq = self.seq
        await self.send({"op": DISPATCH, "t": event, "s": seq, "d": data})

    async def run(self) -> None:
        interval = round(self.fake.heartbeat_interval * 1000)
        await self.send({"op": HELLO, "d": {"heartbeat_interval": interval}})
        async for msg in self.ws:
            if msg.type == WSMsgType.TEXT:
                await self._handle(json.loads(msg.data))
            elif msg.type == WSMsgType.BINARY:
                await self._handle(json.loads(msg.data.decode()))
            elif msg.type == WSMsgType.ERROR:
                log.debug("gateway websocket error: %s", self.ws.exception())
                break

    async def _handle(self, msg: dict[str, Any]) -> None:
        op, data = msg.get("op"), msg.get("d")
        if op == HEARTBEAT:
            self._ack_heartbeat()
        elif op == IDENTIFY:
            await self._identify(data or {})
        elif op == RESUME:
            await self._resume(data or {})
        elif op == REQUEST_MEMBERS:
            await self._request_members(data or {})
        elif op in (PRESENCE, VOICE_STATE):
            pass
        else:
            log.warning("unknown gateway opcode %r", op)
            await self.ws.close(code=4001, message=b"Unknown opcode")

    def _ack_heartbeat(self) -> None:
        """Answer a heartbeat after ``fake.heartbeat_ack_delay`` (a network round trip), in a
        task of its own: the ACK never waits for this session to read or dispatch more.

        The round trip matters: discord.py records a heartbeat's send time in its keep-alive
        thread only after the loop has sent it, so an ACK that comes back within a fraction
        of a millisecond (the fake in another process) is timed against the previous
        heartbeat and logged as "Can't keep up ... 41.3s behind".
        """
        self.heartbeats += 1
        if self.fake.drop_heartbeat_acks:
            return
        self._acks.add(asyncio.ensure_future(self._send_ack(self.fake.heartbeat_ack_delay)))

    async def _send_ack(self, delay: float) -> None:
        try:
            await asyncio.sleep(delay)
            await self.send({"op": HEARTBEAT_ACK})
            self.heartbeat_acks += 1
        finally:
            self._acks.discard(asyncio.current_task())  # type: ignore[arg-type]

    async def _identify(self, data: dict[str, Any]) -> None:
        fake = self.fake
        self.intents = int(data.get("intents", 0))
        self.shard = data.get("shard")
        refused = fake.sharding.refuse_identify(self.shard, fake.guilds)
        if refused is not None:
            await self.ws.close(code=refused[0], message=refused[1].encode())
            return
        self.session_id = uuid.uuid4().hex
        ready: dict[str, Any] = {
            "v": 10,
            "user": fake.bot_user.to_payload() | {"verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in self.own_guilds()],
            "session_id": self.session_id,
            "session_type": "normal",
            "resume_gateway_url": fake.ws_url,
            "application": {"id": str(fake.application_id), "flags": fake.application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
        }
        if self.shard is not None:
            ready["shard"] = self.shard
        await self.dispatch("READY", ready)
        for guild in self.own_guilds():
            await self.dispatch("GUILD_CREATE", self.guild_create(guild.to_create_payload()))
        self.identified = True
        fake._sessions_by_id[self.session_id] = self
        fake._notify()

    async def _resume(self, data: dict[str, Any]) -> None:
        """Take over a disconnected session: replay what the bot missed (dispatches sent but
        not seen, by sequence number, then every event emitted while it was away), then
        RESUMED. An unknown or invalidated session gets INVALID_SESSION (not resumable)."""
        fake = self.fake
        old = fake._sessions_by_id.get(str(data.get("session_id")))
        if old is None or old is self or not old.can_resume(self.fake.now()):
            await self.send({"op": INVALID_SESSION, "d": False})
            return
        self.session_id, self.intents, self.shard = old.session_id, old.intents, old.shard
        seen = int(data.get("seq") or 0)
        lost = [p for p in old.sent if p.get("op") == DISPATCH and int(p["s"]) > seen]
        self.seq = max(old.seq, seen)
        self.identified = True
        fake._sessions_by_id[str(self.session_id)] = self
        for payload in lost:
            await self.send(payload)
        backlog, old.backlog = old.backlog, []
        for event, event_data in backlog:
            payload = fake._event_for(self, event, event_data)
            if payload is not None:
                await self.dispatch(event, payload)
        self.replayed = len(lost) + len(backlog)
        await self.dispatch("RESUMED", {})
        fake._notify()

    async def _request_members(self, data: dict[str, Any]) -> None:
        guild_ids = data.get("guild_id")
        if not isinstance(guild_ids, list):
            guild_ids = [guild_ids]
        user_ids = data.get("user_ids")
        wanted = None if user_ids is None else {int(u) for u in user_ids}
        for gid in guild_ids:
            guild = self.fake.guilds.get(int(gid))
            if guild is None:
                continue
            members = [
                m.to_payload() for m in guild.members.values() if wanted is None or m.id in wanted
            ]
            chunk: dict[str, Any] = {
                "guild_id": str(guild.id),
                "members": members,
                "chunk_index": 0,
                "chunk_count": 1,
            }
            if data.get("nonce") is not None:
                chunk["nonce"] = data["nonce"]
            await self.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    def own_guilds(self) -> list[Any]:
        """The servers of this connection's shard."""
        return [g for g in self.fake.guilds.values() if shards.holds(self.shard, g.id)]

    def guild_create(self, data: dict[str, Any]) -> dict[str, Any]:
        """Without the GUILD_MEMBERS intent Discord sends only the bot's own member."""
        if self.intents & INTENT_GUILD_MEMBERS:
            return data
        me = str(self.fake.bot_user.id)
        return data | {"members": [m for m in data["members"] if m["user"]["id"] == me]}

    def wants_message(self, *, dm: bool) -> bool:
        return bool(self.intents & (INTENT_DIRECT_MESSAGES if dm else INTENT_GUILD_MESSAGES))

    def has_message_content(self) -> bool:
        return bool(self.intents & INTENT_MESSAGE_CONTENT)


async def gateway_handler(request: web.Request) -> web.WebSocketResponse:
    fake = request.app[FAKE_KEY]
    ws = web.WebSocketResponse(max_msg_size=0)
    await ws.prepare(request)
    session = GatewaySession(fake, ws, request.query.get("compress"))
    if request.query.get("encoding", "json") != "json":
        await ws.close(code=4002, message=b"Only encoding=json is supported")
        return ws
    fake._sessions.append(session)
    log.debug("gateway connection (compress=%s)", session.compression)
    try:
        await session.run()
    finally:
        session.disconnected_at = fake.now()
        if ws.close_code in (1000, 1001) and not session.closed_by_fake:
            session.resumable = False  # the bot closed it: Discord forgets the session
        for ack in list(session._acks):
            ack.cancel()
        if session in fake._sessions:
            fake._sessions.remove(session)
        fake._notify()
    return ws

"""``FakeState``: the fake Discord's world (guilds, users, channels, messages, commands),
its clock, its rule violations and the waits built on them. No networking here: events for
the gateway go through ``_emit``, which ``FakeDiscord`` sends to connected bots.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import rules, shards
from .models import (
    ADMINISTRATOR,
    DEFAULT_EVERYONE_PERMISSIONS,
    DM,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeUser,
    MessageEdit,
    iso_now,
    snowflake,
)

log = logging.getLogger(__name__)

#: The bot's own role in every fake guild (what ``app_permissions`` reports).
DEFAULT_BOT_PERMISSIONS = DEFAULT_EVERYONE_PERMISSIONS | (1 << 13) | (1 << 4)  # +manage msgs/chans
#: How often ``wait_until`` checks its predicate between changes of the fake (seconds).
POLL = 0.02


@dataclass
class Upload:
    """A file part of a multipart request (``files[n]``)."""

    index: int
    filename: str
    data: bytes
    content_type: str | None


class FakeState:
    def __init__(
        self,
        *,
        bot_name: str = "lstm-bot",
        ack_timeout: float = 3.0,
        token_ttl: float = 15 * 60.0,
        quiet_period: float = 0.3,
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
    ) -> None:
        self.ack_timeout = ack_timeout
        self.token_ttl = token_ttl
        self.quiet_period = quiet_period
        self.bot_permissions = bot_permissions
        self.application_id = snowflake()
        self.application_flags = 0
        self.bot_user = FakeUser(bot_name, id=self.application_id, bot=True)
        self.owner = FakeUser("owner")
        self.users: dict[int, FakeUser] = {u.id: u for u in (self.bot_user, self.owner)}
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        self.messages: dict[int, FakeMessage] = {}
        self.attachments: dict[int, FakeAttachment] = {}
        #: Synced application commands: ``None`` -> global list, guild id -> that guild's list.
        self.commands: dict[int | None, list[dict[str, Any]]] = {None: []}
        self.violations: list[str] = []
        self.unknown_routes: list[str] = []
        self.requests: list[tuple[float, str, str]] = []  # (fake clock, method, path)
        #: Called as ``listener(action, message)`` with action "create", "edit" or "delete"
        #: for every message, ephemeral ones included (e.g. to print them in a console).
        self.message_listeners: list[Callable[[str, FakeMessage], None]] = []
        self._clock_offset = 0.0
        self._waiters: set[asyncio.Future[None]] = set()

    # -- clock ------------------------------------------------------------------------------
    def now(self) -> float:
        """The fake clock: monotonic seconds, plus whatever ``advance_clock`` added."""
        return time.monotonic() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Pretend ``seconds`` passed (e.g. to age interaction tokens past 15 minutes)."""
        self._clock_offset += seconds

    # -- violations -------------------------------------------------------------------------
    def violation(self, kind: str, text: str) -> None:
        entry = f"{kind}: {text}"
        log.warning("Discord rule violation: %s", entry)
        self.violations.append(entry)
        self._notify()

    def take_violations(self) -> list[str]:
        """Return the violations so far and forget them (for tests that expect some)."""
        taken, self.violations = self.violations, []
        return taken

    def assert_no_violations(self) -> None:
        if self.violations:
            raise AssertionError(
                "Discord rule violations:\n" + "\n".join(f"  - {v}" for v in self.violations)
            )

    # -- waiting ----------------------------------------------------------------------------
    def _notify(self) -> None:
        waiters, self._waiters = self._waiters, set()
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def wait_changed(self, timeout: float) -> None:
        """Sleep until anything changes in the fake, or ``timeout`` seconds pass."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(fut)
        try:
            await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(fut)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until ``predicate()`` is true; raise ``TimeoutError`` after ``timeout``.

        Woken by every change of the fake, and checked every ``POLL`` seconds too: a predicate
        may read what the fake can't see change (a bot's state, a session's counters)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError
            await self.wait_changed(min(left, POLL))

    # -- world building ---------------------------------------------------------------------
    def _emit(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway event to connected bots (overridden by FakeDiscord)."""

    def _message_changed(self, action: str, msg: FakeMessage) -> None:
        for listener in list(self.message_listeners):
            try:
                listener(action, msg)
            except Exception:
                log.exception("message listener failed")
        self._notify()

    def add_user(
        self,
        name: str,
        *,
        bot: bool = False,
        global_name: str | None = None,
        locale: str = "en-US",
    ) -> FakeUser:
        """A user; ``locale`` is their Discord client's language (``user.locale`` may change)."""
        user = FakeUser(name, bot=bot, global_name=global_name, locale=locale)
        self.users[user.id] = user
        return user

    def add_guild(
        self,
        name: str = "Guild",
        *,
        channels: tuple[str, ...] = ("general",),
        shard: tuple[int, int] | None = None,
    ) -> FakeGuild:
        """A guild with an @everyone role, the given text channels, the bot and an owner;
        ``shard=(shard_id, shard_count)`` picks an id whose events go to that shard."""
        guild = FakeGuild(name, owner_id=self.owner.id)
        if shard is not None:
            guild.id = shards.snowflake_on_shard(*shard)
        guild.roles[guild.id] = FakeRole(
            "@everyone", guild.id, id=guild.id, permissions=DEFAULT_EVERYONE_PERMISSIONS, position=0
        )
        bot_role = FakeRole(self.bot_user.name, guild.id, permissions=self.bot_permissions)
        bot_role.managed = True
        guild.roles[bot_role.id] = bot_role
        for position, channel_name in enumerate(channels):
            channel = FakeChannel(channel_name, guild.id, position=position)
            guild.channels[channel.id] = channel
            self.channels[channel.id] = channel
        for user, roles in ((self.bot_user, [bot_role.id]), (self.owner, [])):
            guild.members[user.id] = FakeMember(user, guild.id, roles=roles)
        self.guilds[guild.id] = guild
        self._emit("GUILD_CREATE", guild.to_create_payload())
        return guild

    def add_channel(self, guild: FakeGuild, name: str) -> FakeChannel:
        channel = FakeChannel(name, guild.id, position=len(guild.channels))
        guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        self._emit("CHANNEL_CREATE", channel.to_payload())
        return channel

    def delete_channel(self, channel: FakeChannel) -> None:
        """The channel is gone: REST calls on it answer 404 Unknown Channel (10003)."""
        guild = self.guilds.get(channel.guild_id) if channel.guild_id else None
        if guild is not None:
            guild.channels.pop(channel.id, None)
        self.channels.pop(channel.id, None)
        self._emit("CHANNEL_DELETE", channel.to_payload())

    def add_role(self, guild: FakeGuild, name: str, *, permissions: int = 0) -> FakeRole:
        role = FakeRole(name, guild.id, permissions=int(permissions), position=len(guild.roles))
        guild.roles[role.id] = role
        self._emit("GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role.to_payload()})
        return role

    def add_member(
        self,
        guild: FakeGuild,
        user: FakeUser,
        *,
        permissions: Any = None,
        roles: tuple[FakeRole, ...] = (),
        nick: str | None = None,
        admin: bool = False,
    ) -> FakeMember:
        """Make ``user`` a member of ``guild``.

        ``permissions`` (an int or a ``discord.Permissions``) are given through a role of
        their own; without it the member has @everyone's permissions (plus ``roles``).
        """
        role_ids = [r.id for r in roles]
        if admin:
            permissions = int(getattr(permissions, "value", permissions) or 0) | ADMINISTRATOR
        if permissions is not None:
            value = int(getattr(permissions, "value", permissions))
            role_ids.append(self.add_role(guild, f"perms-{user.name}", permissions=value).id)
        member = FakeMember(user, guild.id, roles=role_ids, nick=nick)
        guild.members[user.id] = member
        self._emit("GUILD_MEMBER_ADD", member.to_payload() | {"guild_id": str(guild.id)})
        return member

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        for channel in self.channels.values():
            if channel.type == DM and channel.recipient is user:
                return channel
        channel = FakeChannel(user.name, None, type=DM, recipient=user)
        self.channels[channel.id] = channel
        return channel

    def add_attachment(
        self,
        filename: str,
        data: bytes | str,
        content_type: str | None = None,
        *,
        description: str | None = None,
    ) -> FakeAttachment:
        """A file a user "uploaded", for ATTACHMENT options or ``send_message``."""
        raw = data.encode() if isinstance(data, str) else bytes(data)
        att = FakeAttachment.uploaded(filename, raw, content_type, description=description)
        self.attachments[att.id] = att
        return att

    # -- lookups ----------------------------------------------------------------------------
    def channel_messages(self, channel: FakeChannel | int) -> list[FakeMessage]:
        """Non-deleted, non-ephemeral messages in a channel, oldest first."""
        cid = channel if isinstance(channel, int) else channel.id
        ch = self.channels.get(cid)
        return [] if ch is None else [m for m in ch.messages if not m.deleted]

    async def wait_for_message(
        self,
        channel: FakeChannel | int,
        predicate: Callable[[FakeMessage], bool] = lambda m: True,
        timeout: float = 5.0,
        *,
        new_only: bool = False,
    ) -> FakeMessage:
        """Wait for a message in ``channel`` for which ``predicate`` holds (checked again on
        every change, so edits count); returns the latest match. ``new_only`` ignores
        messages not created or edited since the call.
        """
        found: list[FakeMessage] = []
        start = self.now()

        def fresh(m: FakeMessage) -> bool:
            return not new_only or m.created_at >= start or any(t >= start for t in m.edit_times)

        def check() -> bool:
            found[:] = [m for m in self.channel_messages(channel) if fresh(m) and predicate(m)]
            return bool(found)

        try:
            await self.wait_until(check, timeout)
        except TimeoutError:
            seen = [m.content[:80] for m in self.channel_messages(channel)]
            raise AssertionError(
                f"no matching message in channel {channel} within {timeout}s; saw {seen}"
            ) from None
        return found[-1]

    def find_command(
        self, name: str, guild: FakeGuild | int | None = None, *, type: int = 1
    ) -> dict | None:
        """A synced command by name: the guild's own first, then the global one. ``type``: 1
        a slash (chat input) command, 2 a user command, 3 a message command."""
        gid = guild if isinstance(guild, int) or guild is None else guild.id
        for scope in ([gid] if gid is not None else []) + [None]:
            for cmd in self.commands.get(scope, []):
                if cmd["name"] == name and cmd.get("type", 1) == type:
                    return cmd
        return None

    # -- messages ---------------------------------------------------------------------------
    def check_message(self, data: dict[str, Any], n_files: int, where: str) -> rules.Problems:
        """Check a payload against Discord's limits; record violations for every problem."""
        problems = rules.check_message(data, n_files=n_files)
        for path, message in problems.errors:
            self.violation("invalid_message", f"{where}: {path}: {message}")
        for warning in problems.warnings:
            self.violation("would_ping", f"{where}: {warning}")
        return problems

    def _make_attachments(
        self, data: dict[str, Any], uploads: list[Upload], existing: list[FakeAttachment]
    ) -> list[FakeAttachment]:
        by_index = {u.index: u for u in uploads}
        used: set[int] = set()
        result: list[FakeAttachment] = []
        old = {str(a.id): a for a in existing}
        listed = data.get("attachments")
        if listed is None:
            result = list(existing)
        else:
            for item in listed:
                key = str(item.get("id"))
                if key in old:
                    result.append(old[key])
                elif key.isdigit() and int(key) in by_index:
                    up = by_index[int(key)]
                    used.add(up.index)
                    name = item.get("filename") or up.filename
                    result.append(self._store_upload(up, name, item.get("description")))
        for up in uploads:
            if up.index not in used:
                result.append(self._store_upload(up, up.filename, None))
        return result

    def _store_upload(self, up: Upload, filename: str, description: str | None) -> FakeAttachment:
        att = FakeAttachment.uploaded(filename, up.data, up.content_type, description=description)
        self.attachments[att.id] = att
        return att

    def create_message(
        self,
        channel: FakeChannel,
        author: FakeUser,
        data: dict[str, Any],
        uploads: list[Upload] | None = None,
        *,
        flags: int = 0,
        webhook: bool = False,
        interaction_id: int | None = None,
        type: int = 0,
        attachments: list[FakeAttachment] | None = None,
    ) -> FakeMessage:
        """Store a new message (already validated) and announce it on the gateway."""
        msg = FakeMessage(
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=author,
            created_at=self.now(),
            content=data.get("content") or "",
            embeds=list(data.get("embeds") or []),
            attachments=(attachments or []) + self._make_attachments(data, uploads or [], []),
            components=list(data.get("components") or []),
            flags=int(data.get("flags") or 0) | flags,
            allowed_mentions=data.get("allowed_mentions"),
            tts=bool(data.get("tts")),
            type=type,
            webhook_id=self.application_id if webhook else None,
            application_id=self.application_id if (webhook or interaction_id) else None,
            interaction_id=interaction_id,
            reference=data.get("message_reference"),
        )
        self.messages[msg.id] = msg
        if not msg.ephemeral:
            channel.messages.append(msg)
            self._emit("MESSAGE_CREATE", self.message_payload(msg))
        self._message_changed("create", msg)
        return msg

    def edit_message(
        self, msg: FakeMessage, data: dict[str, Any], uploads: list[Upload] | None = None
    ) -> FakeMessage:
        """Apply an edit (already validated); record it in ``msg.edits``."""
        if "content" in data:
            msg.content = data["content"] or ""
        if "embeds" in data:
            msg.embeds = list(data["embeds"] or [])
        if "components" in data:
            msg.components = list(data["components"] or [])
        if "allowed_mentions" in data:
            msg.allowed_mentions = data["allowed_mentions"]
        if "attachments" in data or uploads:
            msg.attachments = self._make_attachments(data, uploads or [], msg.attachments)
        if data.get("flags") is not None:
            msg.flags = (msg.flags & FLAG_EPHEMERAL) | (int(data["flags"]) & ~FLAG_EPHEMERAL)
        msg.flags &= ~FLAG_LOADING
        msg.edited_timestamp = iso_now()
        msg.edits.append(
            MessageEdit(
                at=self.now(),
                content=msg.content,
                embeds=list(msg.embeds),
                attachments=[a.filename for a in msg.attachments],
                components=list(msg.components),
            )
        )
        if not msg.ephemeral:
            self._emit("MESSAGE_UPDATE", self.message_payload(msg))
        self._message_changed("edit", msg)
        return msg

    def delete_message(self, msg: FakeMessage) -> None:
        msg.deleted = True
        if not msg.ephemeral:
            data = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
            if msg.guild_id is not None:
                data["guild_id"] = str(msg.guild_id)
            self._emit("MESSAGE_DELETE", data)
        self._message_changed("delete", msg)

    def message_payload(self, msg: FakeMessage) -> dict[str, Any]:
        return msg.to_payload(self.base_url)

    @property
    def base_url(self) -> str:  # overridden by FakeDiscord once it listens
        return "http://127.0.0.1"

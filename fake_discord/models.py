"""Plain data objects the fake server keeps: users, guilds, channels, messages, attachments.

Every object knows how to turn itself into the JSON payload Discord would send for it
(``to_payload``). Times are seconds on the fake server's clock (see ``FakeDiscord.now``);
``iso`` timestamps in payloads use the wall clock.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import time
import unicodedata
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

DISCORD_EPOCH_MS = 1420070400000
_counter = itertools.count()

# Permission bits (https://discord.com/developers/docs/topics/permissions).
ADMINISTRATOR = 1 << 3
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
ADD_REACTIONS = 1 << 6
USE_APPLICATION_COMMANDS = 1 << 31
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 51) - 1

#: What ``@everyone`` may do in a fresh fake guild.
DEFAULT_EVERYONE_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_EXTERNAL_EMOJIS
    | ADD_REACTIONS
    | USE_APPLICATION_COMMANDS
    | SEND_MESSAGES_IN_THREADS
)

# Channel types.
GUILD_TEXT = 0
DM = 1

# Message flags.
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7


def snowflake() -> int:
    """A new, unique, time-ordered Discord snowflake."""
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (next(_counter) % (1 << 22))


def iso_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


@dataclass(eq=False)
class FakeUser:
    name: str
    id: int = field(default_factory=snowflake)
    bot: bool = False
    global_name: str | None = None
    locale: str = "en-US"  # the language of their Discord client, sent with interactions

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def to_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
            "flags": 0,
        }


@dataclass(eq=False)
class FakeRole:
    name: str
    guild_id: int
    id: int = field(default_factory=snowflake)
    permissions: int = 0
    position: int = 1
    managed: bool = False

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def to_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": False,
            "flags": 0,
        }


@dataclass(eq=False)
class FakeChannel:
    name: str
    guild_id: int | None
    id: int = field(default_factory=snowflake)
    type: int = GUILD_TEXT
    position: int = 0
    topic: str | None = None
    recipient: FakeUser | None = None  # for DM channels
    messages: list[FakeMessage] = field(default_factory=list, repr=False)

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def to_payload(self) -> dict[str, Any]:
        if self.type == DM:
            return {
                "id": str(self.id),
                "type": DM,
                "last_message_id": None,
                "recipients": [self.recipient.to_payload()] if self.recipient else [],
            }
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [],
            "nsfw": False,
            "topic": self.topic,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "parent_id": None,
            "flags": 0,
        }


@dataclass(eq=False)
class FakeMember:
    user: FakeUser
    guild_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=iso_now)

    @property
    def id(self) -> int:
        return self.user.id

    def to_payload(
        self, *, with_user: bool = True, permissions: int | None = None
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.roles],
            "nick": self.nick,
            "avatar": None,
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.to_payload()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass(eq=False)
class FakeGuild:
    name: str
    owner_id: int
    id: int = field(default_factory=snowflake)
    roles: dict[int, FakeRole] = field(default_factory=dict)
    channels: dict[int, FakeChannel] = field(default_factory=dict)
    members: dict[int, FakeMember] = field(default_factory=dict)
    preferred_locale: str = "en-US"  # the server's language (``guild_locale``)

    @property
    def everyone_role(self) -> FakeRole:
        return self.roles[self.id]

    @property
    def default_channel(self) -> FakeChannel:
        """The first text channel (``#general`` unless you changed it)."""
        for channel in self.channels.values():
            if channel.type == GUILD_TEXT:
                return channel
        raise LookupError(f"guild {self.name!r} has no text channel")

    def channel(self, name: str) -> FakeChannel:
        for channel in self.channels.values():
            if channel.name == name:
                return channel
        raise LookupError(f"guild {self.name!r} has no channel named {name!r}")

    def permissions_for(self, user_id: int) -> int:
        """Guild-level permissions of a member: @everyone plus their roles."""
        if user_id == self.owner_id:
            return ALL_PERMISSIONS
        member = self.members.get(user_id)
        perms = self.everyone_role.permissions
        if member is not None:
            for role_id in member.roles:
                role = self.roles.get(role_id)
                if role is not None:
                    perms |= role.permissions
        if perms & ADMINISTRATOR:
            return ALL_PERMISSIONS
        return perms

    def to_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "region": "us-west",
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": self.preferred_locale,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "features": [],
            "roles": [r.to_payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
        }

    def to_create_payload(self) -> dict[str, Any]:
        """The full GUILD_CREATE payload sent over the gateway."""
        data = self.to_payload()
        data.update(
            joined_at=iso_now(),
            large=False,
            unavailable=False,
            member_count=len(self.members),
            members=[m.to_payload() for m in self.members.values()],
            channels=[c.to_payload() for c in self.channels.values()],
            threads=[],
            voice_states=[],
            presences=[],
            stage_instances=[],
            guild_scheduled_events=[],
            soundboard_sounds=[],
        )
        return data


def cleansed_filename(name: str) -> str:
    """The file name Discord stores for an upload named ``name``.

    Like werkzeug's ``secure_filename`` (which Discord's cleansing follows): letters reduced
    to ASCII, runs of whitespace become ``_``, everything but ASCII letters, digits, ``_``,
    ``-`` and ``.`` is dropped, leading and trailing ``.``/``_`` go. A name left without a stem
    (all non-ASCII letters) becomes ``file`` plus its cleansed extension.
    """

    def clean(part: str) -> str:
        ascii_part = unicodedata.normalize("NFKD", part).encode("ascii", "ignore").decode()
        return re.sub(r"[^A-Za-z0-9_.-]", "", "_".join(ascii_part.split()))

    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem, ext = clean(stem).strip("._"), clean(ext).strip("._")
    return f"{stem or 'file'}.{ext}" if ext else stem or "file"


@dataclass(eq=False)
class FakeAttachment:
    """A file: uploaded by the bot, or made with ``FakeDiscord.add_attachment`` for options.

    ``filename`` is the cleansed name Discord stores; ``title`` the name as uploaded when it
    differs (as Discord sends it)."""

    filename: str
    data: bytes
    content_type: str | None = None
    description: str | None = None
    id: int = field(default_factory=snowflake)
    title: str | None = None

    @classmethod
    def uploaded(cls, name: str, data: bytes, content_type: str | None = None, **kw: Any):
        """An attachment as Discord stores an upload called ``name``."""
        filename = cleansed_filename(name)
        title = name if filename != name else None
        return cls(filename, data, content_type, title=title, **kw)

    @property
    def size(self) -> int:
        return len(self.data)

    def url_path(self) -> str:
        return f"/attachments/{self.id}/{urllib.parse.quote(self.filename, safe='')}"

    def to_payload(self, base_url: str) -> dict[str, Any]:
        # Like Discord's signed CDN links: expiry, issue time and a signature in the query.
        issued = int(time.time())
        query = f"?ex={issued + 86400:x}&is={issued:x}&hm={self.id:x}"
        url = base_url + self.url_path() + query
        data: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": url,
            "proxy_url": url,
        }
        if self.title:
            data["title"] = self.title
        if self.content_type:
            data["content_type"] = self.content_type
        if self.description:
            data["description"] = self.description
        return data


@dataclass
class MessageEdit:
    """One PATCH (or component update) applied to a message."""

    at: float  # fake clock
    content: str
    embeds: list[dict[str, Any]]
    attachments: list[str]  # filenames after the edit
    components: list[dict[str, Any]]


@dataclass(eq=False)
class FakeMessage:
    channel_id: int
    guild_id: int | None
    author: FakeUser
    created_at: float  # fake clock
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[FakeAttachment] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    allowed_mentions: dict[str, Any] | None = None
    tts: bool = False
    type: int = 0
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_id: int | None = None
    reference: dict[str, Any] | None = None
    id: int = field(default_factory=snowflake)
    edits: list[MessageEdit] = field(default_factory=list)
    reactions: list[str] = field(default_factory=list)
    deleted: bool = False
    nonce: str | None = None  # an enforced nonce it was created with
    timestamp: str = field(default_factory=iso_now)
    edited_timestamp: str | None = None

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def loading(self) -> bool:
        """True while this is a deferred ("bot is thinking...") response not yet edited."""
        return bool(self.flags & FLAG_LOADING)

    @property
    def files(self) -> list[tuple[str, bytes]]:
        return [(a.filename, a.data) for a in self.attachments]

    @property
    def edit_times(self) -> list[float]:
        return [e.at for e in self.edits]

    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in iter_components(self.components) if "custom_id" in c]

    def find_component(self, custom_id: str) -> dict[str, Any] | None:
        for comp in iter_components(self.components):
            if comp.get("custom_id") == custom_id:
                return comp
        return None

    def to_payload(self, base_url: str) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "type": self.type,
            "author": self.author.to_payload(),
            "content": self.content,
            "timestamp": self.timestamp,
            "edited_timestamp": self.edited_timestamp,
            "tts": self.tts,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [a.to_payload(base_url) for a in self.attachments],
            "embeds": self.embeds,
            "components": self.components,
            "pinned": False,
            "flags": self.flags,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            data["application_id"] = str(self.application_id)
        if self.reference is not None:
            data["message_reference"] = self.reference
        if self.reactions:
            data["reactions"] = [
                {"count": 1, "me": True, "emoji": {"id": None, "name": r}} for r in self.reactions
            ]
        return data


def iter_components(components: list[dict[str, Any]]) -> Any:
    """Yield every component in a (possibly nested) component tree, depth first."""
    for comp in components:
        yield comp
        yield from iter_components(comp.get("components") or [])
        for key in ("accessory", "component"):
            child = comp.get(key)
            if isinstance(child, dict):
                yield from iter_components([child])

"""``FakeInteraction``: what happened to one interaction the fake dispatched, plus waits on it.

Also builds the ``data.options`` / ``data.resolved`` part of slash-command payloads from
plain Python values, using the command definitions the bot synced.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .models import (
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeUser,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from .server import FakeDiscord

# Interaction types.
APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5
# Application command types (``data.type`` of an APPLICATION_COMMAND interaction).
CHAT_INPUT_COMMAND, USER_COMMAND, MESSAGE_COMMAND = 1, 2, 3
# Callback (response) types.
CHANNEL_MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE = 4, 5, 6, 7
AUTOCOMPLETE_RESULT, MODAL = 8, 9

# Option types.
SUB_COMMAND, SUB_COMMAND_GROUP, STRING, INTEGER, BOOLEAN = 1, 2, 3, 4, 5
USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 6, 7, 8, 9, 10, 11


class InteractionNotDone(AssertionError):
    """Raised by the waits on ``FakeInteraction`` when the bot does not get there in time."""


@dataclass
class Callback:
    at: float  # fake clock
    type: int
    data: dict[str, Any]


@dataclass(eq=False)
class FakeInteraction:
    """One interaction dispatched to the bot and everything the bot did with it.

    Times (``acknowledged_after``, ``edits``) are seconds since the interaction was dispatched.
    """

    fake: FakeDiscord = field(repr=False)
    id: int
    token: str
    type: int
    name: str  # "generate", "model list", or the custom_id of a component
    guild: FakeGuild | None
    channel: FakeChannel
    user: FakeUser
    payload: dict[str, Any] = field(repr=False)
    dispatched_at: float
    message: FakeMessage | None = None  # the message a component was clicked on
    callbacks: list[Callback] = field(default_factory=list)
    original: FakeMessage | None = None  # @original, once there is one
    followups: list[FakeMessage] = field(default_factory=list)
    choices: list[dict[str, Any]] | None = None  # autocomplete result
    modal: dict[str, Any] | None = None  # modal the bot opened (callback 9)
    rejected: list[str] = field(default_factory=list)  # requests the fake refused (4xx)
    deleted_original: bool = False
    ack_violation: bool = False
    last_activity: float = 0.0

    # -- state ------------------------------------------------------------------------------
    @property
    def acked(self) -> bool:
        return bool(self.callbacks)

    @property
    def response_type(self) -> int | None:
        return self.callbacks[0].type if self.callbacks else None

    @property
    def acknowledged_after(self) -> float | None:
        """Seconds from dispatch to the first (accepted) callback, or None."""
        return self.callbacks[0].at - self.dispatched_at if self.callbacks else None

    @property
    def deferred(self) -> bool:
        return self.response_type in (DEFERRED_MESSAGE, DEFERRED_UPDATE)

    @property
    def ephemeral(self) -> bool:
        if self.original is not None:
            return self.original.ephemeral
        if self.callbacks:
            return bool(int(self.callbacks[0].data.get("flags") or 0) & 64)
        return False

    @property
    def content(self) -> str | None:
        """Current content of @original (None if there is no @original)."""
        return None if self.original is None else self.original.content

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return [] if self.original is None else self.original.embeds

    @property
    def files(self) -> list[tuple[str, bytes]]:
        return [] if self.original is None else self.original.files

    @property
    def components(self) -> list[dict[str, Any]]:
        return [] if self.original is None else self.original.components

    @property
    def allowed_mentions(self) -> dict[str, Any] | None:
        return None if self.original is None else self.original.allowed_mentions

    @property
    def edits(self) -> list[tuple[float, str]]:
        """(seconds since dispatch, content) for every edit of @original, in order."""
        if self.original is None:
            return []
        return [(e.at - self.dispatched_at, e.content) for e in self.original.edits]

    @property
    def messages(self) -> list[FakeMessage]:
        """@original (if any) followed by the followups."""
        return ([self.original] if self.original is not None else []) + self.followups

    @property
    def done(self) -> bool:
        """Has the interaction reached a final state (ignoring the quiet period)?"""
        kind = self.response_type
        if kind is None:
            return False
        if kind in (DEFERRED_MESSAGE, DEFERRED_UPDATE):
            edited = self.original is not None and any(
                e.at >= self.callbacks[0].at for e in self.original.edits
            )
            return edited or bool(self.followups) or self.deleted_original
        return True

    @property
    def activity_at(self) -> float:
        """Fake-clock time of the latest thing the bot did with this interaction."""
        times = [self.last_activity]
        for msg in self.messages:
            times.append(msg.created_at)
            times.extend(msg.edit_times)
        return max(times)

    def describe(self) -> str:
        return (
            f"<interaction {self.name!r} type={self.type} acked={self.acked} "
            f"response_type={self.response_type} edits={len(self.edits)} "
            f"followups={len(self.followups)} content={self.content!r} rejected={self.rejected}>"
        )

    # -- waits ------------------------------------------------------------------------------
    async def wait_for(
        self, predicate: Callable[[FakeInteraction], bool], timeout: float = 5.0, what: str = ""
    ) -> FakeInteraction:
        """Wait until ``predicate(self)`` is true."""
        try:
            await self.fake.wait_until(lambda: predicate(self), timeout)
        except TimeoutError:
            raise InteractionNotDone(
                f"timed out after {timeout}s waiting for {what or predicate!r}: {self.describe()}"
            ) from None
        return self

    async def wait_acked(self, timeout: float = 5.0) -> FakeInteraction:
        return await self.wait_for(lambda ix: ix.acked, timeout, "a callback")

    async def wait_edits(self, count: int, timeout: float = 5.0) -> FakeInteraction:
        return await self.wait_for(lambda ix: len(ix.edits) >= count, timeout, f"{count} edits")

    async def wait_followups(self, count: int = 1, timeout: float = 5.0) -> FakeInteraction:
        return await self.wait_for(
            lambda ix: len(ix.followups) >= count, timeout, f"{count} followups"
        )

    async def wait_content(
        self, predicate: Callable[[str], bool], timeout: float = 5.0
    ) -> FakeInteraction:
        """Wait until @original's content satisfies ``predicate``."""
        return await self.wait_for(
            lambda ix: ix.content is not None and predicate(ix.content), timeout, "content"
        )

    async def wait_done(self, timeout: float = 5.0, quiet: float | None = None) -> FakeInteraction:
        """Wait for a final state (see ``done``) followed by ``quiet`` seconds of no activity.

        ``quiet`` defaults to ``FakeDiscord.quiet_period``. A bot that edits a deferred
        response in several steps needs a ``quiet`` longer than its gap between edits, or use
        ``wait_content`` / ``wait_for`` instead.
        """
        quiet = self.fake.quiet_period if quiet is None else quiet
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self.ack_violation and not self.acked:
                raise InteractionNotDone(
                    f"not acknowledged within {self.fake.ack_timeout}s: {self.describe()}"
                )
            left = deadline - loop.time()
            if left <= 0:
                raise InteractionNotDone(f"not done after {timeout}s: {self.describe()}")
            if not self.done:
                try:
                    await self.fake.wait_until(lambda: self.done or self.ack_violation, left)
                except TimeoutError:
                    continue
                continue
            idle = self.fake.now() - self.activity_at
            if idle >= quiet:
                return self
            await self.fake.wait_changed(min(quiet - idle, left))


def command_path(name: str, subcommand: str | None, group: str | None) -> list[str]:
    path = name.split()
    if group:
        path.append(group)
    if subcommand:
        path.extend(subcommand.split())
    return path


def _infer_type(value: Any) -> int:
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return NUMBER
    if isinstance(value, FakeAttachment):
        return ATTACHMENT
    if isinstance(value, FakeUser | FakeMember):
        return USER
    if isinstance(value, FakeRole):
        return ROLE
    if isinstance(value, FakeChannel):
        return CHANNEL
    return STRING


def build_command_data(
    fake: FakeDiscord,
    guild: FakeGuild | None,
    path: list[str],
    options: dict[str, Any],
    *,
    focused: str | None = None,
) -> dict[str, Any]:
    """The ``data`` of an APPLICATION_COMMAND or AUTOCOMPLETE interaction."""
    command = fake.find_command(path[0], guild)
    data: dict[str, Any] = {"name": path[0], "type": 1}
    if command is not None:
        data["id"] = command["id"]
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        defs: list[dict[str, Any]] | None = command.get("options") or []
    else:
        data["id"] = "0"
        defs = None  # unknown command: infer option types from the values
    top: list[dict[str, Any]] = []
    container = top
    for part in path[1:]:
        sub_def = None
        if defs is not None:
            sub_def = next((d for d in defs if d["name"] == part and d["type"] in (1, 2)), None)
            if sub_def is None:
                raise ValueError(f"/{' '.join(path)}: no subcommand or group named {part!r}")
        kind = (
            sub_def["type"] if sub_def else (SUB_COMMAND if part == path[-1] else SUB_COMMAND_GROUP)
        )
        node: dict[str, Any] = {"name": part, "type": kind, "options": []}
        container.append(node)
        container = node["options"]
        defs = None if sub_def is None else sub_def.get("options") or []
    resolved: dict[str, dict[str, Any]] = {}
    if defs is not None and any(d["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for d in defs):
        subs = [d["name"] for d in defs]
        raise ValueError(f"/{' '.join(path)} needs a subcommand: one of {subs}")
    if defs is not None:
        known = {d["name"]: d for d in defs}
        unknown = set(options) - set(known)
        if unknown:
            raise ValueError(
                f"/{' '.join(path)} has no option(s) {sorted(unknown)}; it has {sorted(known)}"
            )
        if focused is None:
            missing = [d["name"] for d in defs if d.get("required") and d["name"] not in options]
            if missing:
                raise ValueError(f"/{' '.join(path)}: required option(s) missing: {missing}")
    else:
        known = {}
    for name, value in options.items():
        odef = known.get(name)
        kind = odef["type"] if odef else _infer_type(value)
        is_focused = name == focused
        if odef and not is_focused and odef.get("choices"):
            allowed = [c["value"] for c in odef["choices"]]
            if value not in allowed:
                raise ValueError(f"/{' '.join(path)} {name}={value!r} is not one of {allowed}")
        opt: dict[str, Any] = {"name": name, "type": kind}
        opt["value"] = (
            str(value) if is_focused else _option_value(fake, guild, kind, value, resolved)
        )
        if is_focused:
            opt["focused"] = True
        container.append(opt)
    if focused is not None and focused not in options:
        odef = known.get(focused)
        container.append(
            {
                "name": focused,
                "type": odef["type"] if odef else STRING,
                "value": "",
                "focused": True,
            }
        )
    if top:
        data["options"] = top
    if resolved:
        data["resolved"] = resolved
    return data


def _option_value(
    fake: FakeDiscord,
    guild: FakeGuild | None,
    kind: int,
    value: Any,
    resolved: dict[str, dict[str, Any]],
) -> Any:
    if kind == STRING:
        return str(value)
    if kind == INTEGER:
        return int(value)
    if kind == BOOLEAN:
        return bool(value)
    if kind == NUMBER:
        return float(value)
    if kind == ATTACHMENT:
        if not isinstance(value, FakeAttachment):
            raise TypeError("attachment options take a FakeAttachment (fake.add_attachment(...))")
        resolved.setdefault("attachments", {})[str(value.id)] = value.to_payload(fake.base_url)
        return str(value.id)
    if isinstance(value, FakeMember):
        value = value.user
    if isinstance(value, FakeUser):
        resolved.setdefault("users", {})[str(value.id)] = value.to_payload()
        member = guild.members.get(value.id) if guild else None
        if member is not None:
            resolved.setdefault("members", {})[str(value.id)] = member.to_payload(
                with_user=False, permissions=guild.permissions_for(value.id) if guild else 0
            )
        return str(value.id)
    if isinstance(value, FakeRole):
        resolved.setdefault("roles", {})[str(value.id)] = value.to_payload()
        return str(value.id)
    if isinstance(value, FakeChannel):
        channel = value.to_payload()
        channel["permissions"] = str(guild.permissions_for(fake.bot_user.id) if guild else 0)
        resolved.setdefault("channels", {})[str(value.id)] = channel
        return str(value.id)
    return str(getattr(value, "id", value))


def modal_submit_components(
    components: list[dict[str, Any]], values: dict[str, Any]
) -> list[dict[str, Any]]:
    """The submitted ``components`` for a modal, filled with ``values`` by custom_id."""
    out: list[dict[str, Any]] = []
    for comp in components:
        kind = comp.get("type")
        if kind == 1:
            out.append(
                {"type": 1, "components": modal_submit_components(comp["components"], values)}
            )
        elif kind == 18 and isinstance(comp.get("component"), dict):
            inner = modal_submit_components([comp["component"]], values)
            if inner:
                out.append({"type": 18, "component": inner[0]})
        elif "custom_id" in comp:
            value = values.get(comp["custom_id"], comp.get("value", ""))
            if kind == 4:
                out.append({"type": 4, "custom_id": comp["custom_id"], "value": str(value)})
            else:
                vals = value if isinstance(value, list) else [value]
                out.append({"type": kind, "custom_id": comp["custom_id"], "values": vals})
    return out

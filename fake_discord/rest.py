"""The fake REST API (``/api/v10/...``) and the attachment file server (``/attachments/...``)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import interactions as ix_types
from .models import FLAG_EPHEMERAL, FLAG_LOADING, FakeChannel, FakeMessage, snowflake
from .rules import check_choices, check_commands
from .state import Upload

if TYPE_CHECKING:
    from .interactions import FakeInteraction
    from .server import FakeDiscord

log = logging.getLogger(__name__)

API = "/api/v10"
LOST: web.RequestKey[bool] = web.RequestKey("lost", bool)  # a "lost" fault: answer dropped
NONCE_SECONDS = 300.0  # how long Discord remembers an enforced nonce ("a few minutes")
_FILE_FIELD = re.compile(r"files\[(\d+)\]|file(\d*)")


def json_response(data: Any, status: int = 200) -> web.Response:
    # discord.py only parses bodies whose content-type is exactly "application/json".
    return web.Response(
        body=json.dumps(data).encode(), status=status, content_type="application/json"
    )


def error(status: int, code: int, message: str, **extra: Any) -> web.Response:
    return json_response({"message": message, "code": code, **extra}, status)


def no_content() -> web.Response:
    return web.Response(status=204)


async def read_payload(request: web.Request) -> tuple[dict[str, Any], list[Upload]]:
    """The JSON body, or ``payload_json`` plus ``files[n]`` of a multipart body."""
    if request.content_type.startswith("multipart/"):
        payload: dict[str, Any] = {}
        uploads: list[Upload] = []
        reader = await request.multipart()
        async for part in reader:
            name = getattr(part, "name", None) or ""
            raw = await part.read()  # type: ignore[union-attr]
            if name == "payload_json":
                payload = json.loads(raw.decode())
                continue
            match = _FILE_FIELD.fullmatch(name)
            if match:
                index = int(match.group(1) or match.group(2) or len(uploads))
                filename = getattr(part, "filename", None) or f"file{index}"
                ctype = part.headers.get("Content-Type")  # type: ignore[union-attr]
                uploads.append(Upload(index, filename, bytes(raw), ctype))
        return payload, uploads
    if not request.can_read_body:
        return {}, []
    body = await request.read()
    return (json.loads(body) if body.strip() else {}), []


class Rest:
    """Route handlers; one instance per FakeDiscord."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake

    def routes(self) -> list[web.RouteDef]:
        r = [
            ("GET", "/gateway", self.get_gateway),
            ("GET", "/gateway/bot", self.get_gateway_bot),
            ("GET", "/users/@me", self.get_me),
            ("GET", "/users/{user_id}", self.get_user),
            ("POST", "/users/@me/channels", self.create_dm),
            ("GET", "/oauth2/applications/@me", self.get_application),
            ("GET", "/applications/@me", self.get_application),
            ("GET", "/applications/{app_id}/commands", self.get_commands),
            ("PUT", "/applications/{app_id}/commands", self.put_commands),
            ("POST", "/applications/{app_id}/commands", self.post_command),
            ("GET", "/applications/{app_id}/commands/{cmd_id}", self.get_command),
            ("DELETE", "/applications/{app_id}/commands/{cmd_id}", self.delete_command),
            ("GET", "/applications/{app_id}/guilds/{guild_id}/commands", self.get_commands),
            ("PUT", "/applications/{app_id}/guilds/{guild_id}/commands", self.put_commands),
            ("POST", "/applications/{app_id}/guilds/{guild_id}/commands", self.post_command),
            ("GET", "/applications/{app_id}/guilds/{guild_id}/commands/{cmd_id}", self.get_command),
            (
                "DELETE",
                "/applications/{app_id}/guilds/{guild_id}/commands/{cmd_id}",
                self.delete_command,
            ),
            ("POST", "/interactions/{ix_id}/{token}/callback", self.callback),
            ("POST", "/webhooks/{app_id}/{token}", self.followup),
            ("GET", "/webhooks/{app_id}/{token}/messages/{msg_id}", self.get_webhook_message),
            ("PATCH", "/webhooks/{app_id}/{token}/messages/{msg_id}", self.edit_webhook_message),
            ("DELETE", "/webhooks/{app_id}/{token}/messages/{msg_id}", self.delete_webhook_message),
            ("GET", "/channels/{channel_id}", self.get_channel),
            ("GET", "/channels/{channel_id}/messages", self.list_messages),
            ("POST", "/channels/{channel_id}/messages", self.post_message),
            ("GET", "/channels/{channel_id}/messages/{msg_id}", self.get_message),
            ("PATCH", "/channels/{channel_id}/messages/{msg_id}", self.edit_message),
            ("DELETE", "/channels/{channel_id}/messages/{msg_id}", self.delete_message),
            ("POST", "/channels/{channel_id}/typing", self.typing),
            (
                "PUT",
                "/channels/{channel_id}/messages/{msg_id}/reactions/{emoji}/@me",
                self.add_reaction,
            ),
            ("GET", "/guilds/{guild_id}", self.get_guild),
            ("GET", "/guilds/{guild_id}/channels", self.get_guild_channels),
            ("GET", "/guilds/{guild_id}/roles", self.get_guild_roles),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self.get_member),
        ]
        defs = [web.route(method, API + path, handler) for method, path, handler in r]
        defs.append(web.get("/attachments/{att_id}/{filename}", self.get_attachment))
        return defs

    # -- helpers ----------------------------------------------------------------------------
    def _int(self, request: web.Request, key: str) -> int:
        try:
            return int(request.match_info[key])
        except ValueError:
            raise web.HTTPNotFound() from None

    def _channel(self, request: web.Request) -> FakeChannel:
        channel = self.fake.channels.get(self._int(request, "channel_id"))
        if channel is None:
            raise _Fail(error(404, 10003, "Unknown Channel"))
        return channel

    def _message_in(self, channel: FakeChannel, request: web.Request) -> FakeMessage:
        msg = self.fake.messages.get(self._int(request, "msg_id"))
        if msg is None or msg.deleted or msg.channel_id != channel.id or msg.ephemeral:
            raise _Fail(error(404, 10008, "Unknown Message"))
        return msg

    def _checked(self, data: dict[str, Any], uploads: list[Upload], where: str) -> None:
        problems = self.fake.check_message(data, len(uploads), where)
        if problems.errors:
            raise _Fail(json_response(problems.to_error_body(), 400))

    def _payload(self, msg: FakeMessage) -> web.Response:
        return json_response(self.fake.message_payload(msg))

    # -- gateway, users, application --------------------------------------------------------
    async def get_gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.fake.ws_url})

    async def get_gateway_bot(self, request: web.Request) -> web.Response:
        fake = self.fake
        return json_response(fake.sharding.gateway_bot(fake.ws_url, len(fake.guilds)))

    async def get_me(self, request: web.Request) -> web.Response:
        me = self.fake.bot_user.to_payload() | {"verified": True, "mfa_enabled": False}
        return json_response(me)

    async def get_user(self, request: web.Request) -> web.Response:
        user = self.fake.users.get(self._int(request, "user_id"))
        return json_response(user.to_payload()) if user else error(404, 10013, "Unknown User")

    async def create_dm(self, request: web.Request) -> web.Response:
        data, _ = await read_payload(request)
        user = self.fake.users.get(int(data.get("recipient_id", 0)))
        if user is None:
            return error(404, 10013, "Unknown User")
        return json_response(self.fake.dm_channel(user).to_payload())

    async def get_application(self, request: web.Request) -> web.Response:
        fake = self.fake
        return json_response(
            {
                "id": str(fake.application_id),
                "name": fake.bot_user.name,
                "icon": None,
                "description": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": fake.owner.to_payload(),
                "team": None,
                "verify_key": "0" * 64,
                "flags": fake.application_flags,
                "bot": fake.bot_user.to_payload(),
                "interactions_endpoint_url": None,
                "tags": [],
            }
        )

    # -- application commands ---------------------------------------------------------------
    def _scope(self, request: web.Request) -> int | None:
        if self._int(request, "app_id") != self.fake.application_id:
            raise _Fail(error(403, 50001, "Missing Access"))
        return self._int(request, "guild_id") if "guild_id" in request.match_info else None

    def _normalize(self, cmd: dict[str, Any], scope: int | None, old: list[dict]) -> dict:
        prev = next(
            (c for c in old if c["name"] == cmd["name"] and c.get("type", 1) == cmd.get("type", 1)),
            None,
        )
        out = {
            "type": 1,
            "description": "",
            "options": [],
            "default_member_permissions": None,
            "dm_permission": True,
            "nsfw": False,
            **cmd,
        }
        out["id"] = prev["id"] if prev else str(snowflake())
        out["application_id"] = str(self.fake.application_id)
        out["version"] = str(snowflake())
        if scope is not None:
            out["guild_id"] = str(scope)
        return out

    async def get_commands(self, request: web.Request) -> web.Response:
        return json_response(self.fake.commands.get(self._scope(request), []))

    def _check_commands(self, commands: list[dict[str, Any]], scope: int | None) -> None:
        problems = check_commands(commands)
        for path, message in problems.errors:
            self.fake.violation("invalid_command", f"sync (scope {scope}): {path}: {message}")
        if problems.errors:
            raise _Fail(json_response(problems.to_error_body(), 400))

    async def put_commands(self, request: web.Request) -> web.Response:
        scope = self._scope(request)
        body = await request.json()
        self._check_commands(body, scope)
        old = self.fake.commands.get(scope, [])
        new = [self._normalize(cmd, scope, old) for cmd in body]
        self.fake.commands[scope] = new
        self.fake._notify()
        log.debug("synced %d commands (scope %s)", len(new), scope)
        return json_response(new)

    async def post_command(self, request: web.Request) -> web.Response:
        scope = self._scope(request)
        body = await request.json()
        old = self.fake.commands.get(scope, [])
        key = (body.get("name"), body.get("type", 1))
        others = [c for c in old if (c["name"], c.get("type", 1)) != key]
        self._check_commands([*others, body], scope)
        cmd = self._normalize(body, scope, old)
        self.fake.commands[scope] = [c for c in old if c["id"] != cmd["id"]] + [cmd]
        self.fake._notify()
        return json_response(cmd, 201)

    async def get_command(self, request: web.Request) -> web.Response:
        cid = request.match_info["cmd_id"]
        for cmd in self.fake.commands.get(self._scope(request), []):
            if cmd["id"] == cid:
                return json_response(cmd)
        return error(404, 10063, "Unknown application command")

    async def delete_command(self, request: web.Request) -> web.Response:
        scope = self._scope(request)
        cid = request.match_info["cmd_id"]
        self.fake.commands[scope] = [c for c in self.fake.commands.get(scope, []) if c["id"] != cid]
        return no_content()

    # -- interactions -----------------------------------------------------------------------
    def _reject(self, ix: FakeInteraction, response: web.Response, why: str) -> web.Response:
        ix.rejected.append(why)
        self.fake._notify()
        return response

    async def callback(self, request: web.Request) -> web.Response:
        fake = self.fake
        ix = fake._ix_by_id.get(self._int(request, "ix_id"))
        if ix is None or ix.token != request.match_info["token"]:
            fake.violation(
                "unknown_interaction", f"callback for unknown interaction {request.path}"
            )
            return error(404, 10062, "Unknown interaction")
        now = fake.now()
        name = f"interaction {ix.name!r}"
        if ix.acked:
            fake.violation("double_ack", f"{name} got a second callback")
            return self._reject(
                ix, error(400, 40060, "Interaction has already been acknowledged."), "double_ack"
            )
        if now - ix.dispatched_at > fake.ack_timeout:
            fake._flag_unacked(ix, late_by=now - ix.dispatched_at)
            return self._reject(ix, error(404, 10062, "Unknown interaction"), "late callback")
        body, uploads = await read_payload(request)
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        allowed = {
            ix_types.APPLICATION_COMMAND: {4, 5, 9},
            ix_types.MESSAGE_COMPONENT: {4, 5, 6, 7, 9},
            ix_types.MODAL_SUBMIT: {4, 5, 6, 7},
            ix_types.AUTOCOMPLETE: {8},
        }[ix.type]
        if kind not in allowed:
            fake.violation("invalid_callback", f"{name}: callback type {kind} not allowed here")
            return self._reject(ix, error(400, 50035, "Invalid Form Body"), f"type {kind}")
        where = f"{name} callback {kind}"
        if kind in (ix_types.CHANNEL_MESSAGE, ix_types.UPDATE_MESSAGE):
            problems = fake.check_message(data, len(uploads), where)
            if problems.errors:
                return self._reject(ix, json_response(problems.to_error_body(), 400), where)
        if kind == ix_types.AUTOCOMPLETE_RESULT:
            choices = data.get("choices") or []
            problems = check_choices(choices)
            for path, message in problems.errors:
                fake.violation("invalid_autocomplete", f"{where}: {path}: {message}")
            if problems.errors:
                return self._reject(ix, json_response(problems.to_error_body(), 400), where)
            ix.choices = choices
        resource = self._apply_callback(ix, kind, data, uploads)
        ix.callbacks.append(ix_types.Callback(now, kind, data))
        ix.last_activity = fake.now()
        fake._notify()
        if request.query.get("with_response") not in ("1", "true", "True"):
            return no_content()
        original = ix.original
        result: dict[str, Any] = {
            "interaction": {
                "id": str(ix.id),
                "type": ix.type,
                "response_message_id": str(original.id) if original else None,
                "response_message_loading": bool(original and original.loading),
                "response_message_ephemeral": bool(original and original.ephemeral),
            }
        }
        if resource is not None:
            result["resource"] = {"type": kind, "message": fake.message_payload(resource)}
        return json_response(result)

    def _apply_callback(
        self, ix: FakeInteraction, kind: int, data: dict[str, Any], uploads: list[Upload]
    ) -> FakeMessage | None:
        fake = self.fake
        if kind == ix_types.CHANNEL_MESSAGE or kind == ix_types.DEFERRED_MESSAGE:
            msg_type = 0  # a component or modal's reply: a plain message
            if ix.type == ix_types.APPLICATION_COMMAND:  # chat input 20, context menu 23
                msg_type = 20 if ix.payload["data"].get("type", 1) == 1 else 23
            if kind == ix_types.DEFERRED_MESSAGE:
                flags = (int(data.get("flags") or 0) & FLAG_EPHEMERAL) | FLAG_LOADING
                payload: dict[str, Any] = {"content": "", "flags": flags}
                uploads = []
            else:
                payload = data
            ix.original = fake.create_message(
                ix.channel,
                fake.bot_user,
                payload,
                uploads,
                webhook=True,
                interaction_id=ix.id,
                type=msg_type,
            )
            return ix.original
        if kind in (ix_types.DEFERRED_UPDATE, ix_types.UPDATE_MESSAGE):
            ix.original = ix.message
            if kind == ix_types.UPDATE_MESSAGE and ix.message is not None:
                fake.edit_message(ix.message, data, uploads)
            return ix.original if kind == ix_types.UPDATE_MESSAGE else None
        if kind == ix_types.MODAL:
            ix.modal = data
        return None

    def _webhook_ix(self, request: web.Request, what: str) -> FakeInteraction:
        fake = self.fake
        ix = fake._ix_by_token.get(request.match_info["token"])
        if ix is None or self._int(request, "app_id") != fake.application_id:
            fake.violation("unknown_webhook", f"{what}: unknown webhook {request.path}")
            raise _Fail(error(404, 10015, "Unknown Webhook"))
        age = fake.now() - ix.dispatched_at
        if age > fake.token_ttl:
            fake.violation(
                "token_expired",
                f"{what} for interaction {ix.name!r} with a token {age / 60:.1f} minutes old "
                f"(tokens last {fake.token_ttl / 60:.0f} minutes)",
            )
            raise _Fail(self._reject(ix, error(401, 50027, "Invalid Webhook Token"), "expired"))
        if not ix.acked:
            fake.violation("not_acked", f"{what} for interaction {ix.name!r} before any callback")
            raise _Fail(self._reject(ix, error(404, 10015, "Unknown Webhook"), "not acked"))
        return ix

    def _webhook_message(self, ix: FakeInteraction, request: web.Request) -> FakeMessage:
        key = request.match_info["msg_id"]
        if key == "@original":
            msg = ix.original
        else:
            msg = next((m for m in ix.messages if str(m.id) == key), None)
        if msg is None or msg.deleted:
            raise _Fail(self._reject(ix, error(404, 10008, "Unknown Message"), "unknown message"))
        return msg

    async def followup(self, request: web.Request) -> web.Response:
        ix = self._webhook_ix(request, "followup")
        data, uploads = await read_payload(request)
        where = f"followup to interaction {ix.name!r}"
        problems = self.fake.check_message(data, len(uploads), where)
        if problems.errors:
            return self._reject(ix, json_response(problems.to_error_body(), 400), where)
        original = ix.original
        if original is not None and original.loading and not original.deleted:
            # Discord: the first followup after a "thinking..." deferral replaces the loading
            # message, keeping the deferral's visibility (its ephemeral flag is ignored).
            msg = self.fake.edit_message(original, data, uploads)
        else:
            msg = self.fake.create_message(
                ix.channel, self.fake.bot_user, data, uploads, webhook=True, interaction_id=ix.id
            )
            ix.followups.append(msg)
        ix.last_activity = self.fake.now()
        self.fake._notify()
        if request.query.get("wait") in ("1", "true", "True"):
            return self._payload(msg)
        return no_content()

    async def get_webhook_message(self, request: web.Request) -> web.Response:
        ix = self._webhook_ix(request, "get message")
        return self._payload(self._webhook_message(ix, request))

    async def edit_webhook_message(self, request: web.Request) -> web.Response:
        ix = self._webhook_ix(request, "edit")
        msg = self._webhook_message(ix, request)
        data, uploads = await read_payload(request)
        check = dict(data)
        check.setdefault("allowed_mentions", msg.allowed_mentions)
        where = f"edit of interaction {ix.name!r} message"
        problems = self.fake.check_message(check, len(uploads), where)
        if problems.errors:
            return self._reject(ix, json_response(problems.to_error_body(), 400), where)
        self.fake.edit_message(msg, data, uploads)
        ix.last_activity = self.fake.now()
        self.fake._notify()
        return self._payload(msg)

    async def delete_webhook_message(self, request: web.Request) -> web.Response:
        ix = self._webhook_ix(request, "delete")
        msg = self._webhook_message(ix, request)
        self.fake.delete_message(msg)
        if msg is ix.original:
            ix.deleted_original = True
        ix.last_activity = self.fake.now()
        self.fake._notify()
        return no_content()

    # -- channels and messages --------------------------------------------------------------
    async def get_channel(self, request: web.Request) -> web.Response:
        return json_response(self._channel(request).to_payload())

    async def list_messages(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        limit = min(int(request.query.get("limit", 50)), 100)
        msgs = [m for m in self.fake.channel_messages(channel)]
        if "before" in request.query:
            msgs = [m for m in msgs if m.id < int(request.query["before"])]
        if "after" in request.query:
            msgs = [m for m in msgs if m.id > int(request.query["after"])][:limit]
        msgs = list(reversed(msgs))[:limit]
        return json_response([self.fake.message_payload(m) for m in msgs])

    async def post_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        data, uploads = await read_payload(request)
        if not (data.get("content") or data.get("embeds") or uploads or data.get("components")):
            return error(400, 50006, "Cannot send an empty message")
        self._checked(data, uploads, f"message in #{channel.name}")
        nonce = data.get("nonce") if data.get("enforce_nonce") else None
        same = self._nonced(channel, nonce)
        if same is not None:  # Discord: the message created with this nonce, not a new one
            return self._payload(same)
        msg = self.fake.create_message(channel, self.fake.bot_user, data, uploads)
        if nonce is not None:
            msg.nonce = str(nonce)
        return self._payload(msg)

    def _nonced(self, channel: FakeChannel, nonce: object) -> FakeMessage | None:
        """The bot's message in ``channel`` created with ``nonce`` in the last
        ``NONCE_SECONDS`` (``enforce_nonce``: Discord then returns it instead of posting)."""
        if nonce is None:
            return None
        since = self.fake.now() - NONCE_SECONDS
        for msg in reversed(channel.messages):
            if msg.created_at < since:
                return None
            if msg.nonce == str(nonce) and msg.author is self.fake.bot_user:
                return msg
        return None

    async def get_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        return self._payload(self._message_in(channel, request))

    async def edit_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        msg = self._message_in(channel, request)
        if msg.author is not self.fake.bot_user:
            return error(403, 50005, "Cannot edit a message authored by another user")
        data, uploads = await read_payload(request)
        check = dict(data)
        check.setdefault("allowed_mentions", msg.allowed_mentions)
        self._checked(check, uploads, f"edit of message in #{channel.name}")
        return self._payload(self.fake.edit_message(msg, data, uploads))

    async def delete_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        self.fake.delete_message(self._message_in(channel, request))
        return no_content()

    async def typing(self, request: web.Request) -> web.Response:
        self._channel(request)
        return no_content()

    async def add_reaction(self, request: web.Request) -> web.Response:
        msg = self._message_in(self._channel(request), request)
        msg.reactions.append(request.match_info["emoji"])
        self.fake._notify()
        return no_content()

    # -- guilds -----------------------------------------------------------------------------
    def _guild(self, request: web.Request) -> Any:
        guild = self.fake.guilds.get(self._int(request, "guild_id"))
        if guild is None:
            raise _Fail(error(404, 10004, "Unknown Guild"))
        return guild

    async def get_guild(self, request: web.Request) -> web.Response:
        return json_response(self._guild(request).to_payload())

    async def get_guild_channels(self, request: web.Request) -> web.Response:
        return json_response([c.to_payload() for c in self._guild(request).channels.values()])

    async def get_guild_roles(self, request: web.Request) -> web.Response:
        return json_response([r.to_payload() for r in self._guild(request).roles.values()])

    async def get_member(self, request: web.Request) -> web.Response:
        member = self._guild(request).members.get(self._int(request, "user_id"))
        return json_response(member.to_payload()) if member else error(404, 10007, "Unknown Member")

    # -- files ------------------------------------------------------------------------------
    async def get_attachment(self, request: web.Request) -> web.Response:
        att = self.fake.attachments.get(self._int(request, "att_id"))
        if att is None or att.filename != request.match_info["filename"]:
            return web.Response(status=404, text="attachment not found")
        ctype = att.content_type or "application/octet-stream"
        return web.Response(body=att.data, content_type=ctype.split(";")[0])


class _Fail(Exception):
    """Raised inside a handler to return ``response`` at once."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def _limited(fake: FakeDiscord, request: web.Request, sub: str) -> web.Response | dict:
    """The 429 the rate limits give this request, reported as a violation, or the rate-limit
    headers to add to its answer."""
    verdict = fake.limits.check(request.method, sub)
    if not verdict.status:
        return verdict.headers
    what = f"{request.method} {sub}"
    if verdict.reason == "banned":
        if fake.limits.banned == 1 or fake.limits.banned % 1000 == 0:
            fake.violation(
                "invalid_requests",
                f"{what} refused: over {fake.limits.invalid_limit} invalid requests (401, "
                f"403, 429) in {fake.limits.invalid_window:g} s ({fake.limits.banned} refused)",
            )
        return web.Response(status=429, text=str(verdict.body), headers=verdict.headers)
    fake.violation("rate_limited", f"{what}: 429, {verdict.reason}")
    response = json_response(verdict.body, 429)
    response.headers.update(verdict.headers)
    return response


async def _fault(fake: FakeDiscord, request: web.Request, sub: str) -> web.Response | None:
    kind = fake.faults.pick(sub)
    if kind is None:
        return None
    log.debug("fault %s for %s %s", kind, request.method, sub)
    if kind == "slow":
        await asyncio.sleep(fake.faults.slow_seconds)
        return None
    if kind == "lost":
        request[LOST] = True
        return None
    if kind == "reset":
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=500)
    messages = {"500": "Internal Server Error", "502": "Bad Gateway", "503": "Service Unavailable"}
    return error(int(kind), 0, f"{kind}: {messages[kind]}")


def make_middleware(fake: FakeDiscord) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        fake.requests.append((fake.now(), request.method, request.path_qs))
        path, headers = request.path, {}
        if path.startswith(API):
            sub = path[len(API) :]
            headers = _limited(fake, request, sub)
            if isinstance(headers, web.Response):
                return headers
            refused = await _fault(fake, request, sub)
            if refused is not None:
                return refused
        response = await _handle(fake, request, handler)
        response.headers.update(headers)
        if request.get(LOST) and request.transport is not None:
            request.transport.abort()  # done, but the answer never arrives
        fake.limits.note_invalid(response.status)
        return response

    return middleware


async def _handle(fake: FakeDiscord, request: web.Request, handler: Any) -> web.StreamResponse:
    path = request.path
    needs_auth = path.startswith(API) and not path.startswith(
        (API + "/webhooks/", API + "/interactions/", API + "/gateway")
    )
    if needs_auth and not request.headers.get("Authorization", "").startswith("Bot "):
        fake.violation("unauthorized", f"{request.method} {path} without a bot token")
        return error(401, 0, "401: Unauthorized")
    try:
        return await handler(request)
    except _Fail as fail:
        return fail.response
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
        route = f"{request.method} {request.path}"
        fake.unknown_routes.append(route)
        fake.violation("unknown_route", route)
        return error(404, 0, "404: Not Found")

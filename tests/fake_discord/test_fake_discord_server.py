"""Protocol-level tests of the fake Discord, with a raw aiohttp client instead of a bot."""

from __future__ import annotations

import json
import zlib

import aiohttp
import pytest

from fake_discord import FakeDiscord, render_message
from fake_discord.models import FakeMessage
from fake_discord.rules import check_commands, check_message, pinged_mentions

AUTH = {"Authorization": "Bot fake-token"}


async def _identify(ws: aiohttp.ClientWebSocketResponse, decode) -> list[dict]:
    hello = decode(await ws.receive())
    assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
    await ws.send_json({"op": 1, "d": None})
    assert decode(await ws.receive())["op"] == 11
    await ws.send_json({"op": 2, "d": {"token": "t", "intents": 513, "properties": {}}})
    return [decode(await ws.receive()) for _ in range(2)]


async def test_gateway_plain_json() -> None:
    async with FakeDiscord() as fake, aiohttp.ClientSession() as http:
        guild = fake.add_guild("G")
        async with http.ws_connect(fake.ws_url + "?v=10&encoding=json") as ws:
            ready, create = await _identify(ws, lambda m: json.loads(m.data))
        assert (ready["t"], ready["s"]) == ("READY", 1)
        assert ready["d"]["application"]["id"] == str(fake.application_id)
        assert ready["d"]["guilds"] == [{"id": str(guild.id), "unavailable": True}]
        assert (create["t"], create["s"]) == ("GUILD_CREATE", 2)
        assert [c["name"] for c in create["d"]["channels"]] == ["general"]


async def test_gateway_zlib_stream() -> None:
    async with FakeDiscord() as fake, aiohttp.ClientSession() as http:
        fake.add_guild("G")
        inflate = zlib.decompressobj()

        def decode(msg: aiohttp.WSMessage) -> dict:
            assert msg.type == aiohttp.WSMsgType.BINARY and msg.data.endswith(b"\x00\x00\xff\xff")
            return json.loads(inflate.decompress(msg.data))

        async with http.ws_connect(fake.ws_url + "?v=10&encoding=json&compress=zlib-stream") as ws:
            ready, create = await _identify(ws, decode)
        assert ready["t"] == "READY" and create["t"] == "GUILD_CREATE"


async def test_gateway_zstd_stream() -> None:
    zstandard = pytest.importorskip("zstandard")
    async with FakeDiscord() as fake, aiohttp.ClientSession() as http:
        fake.add_guild("G")
        inflate = zstandard.ZstdDecompressor().decompressobj()
        url = fake.ws_url + "?v=10&encoding=json&compress=zstd-stream"
        async with http.ws_connect(url) as ws:
            ready, _ = await _identify(ws, lambda m: json.loads(inflate.decompress(m.data)))
        assert ready["t"] == "READY"


async def test_rest_basics_and_unknown_route() -> None:
    async with FakeDiscord() as fake, aiohttp.ClientSession(headers=AUTH) as http:
        guild = fake.add_guild("G")
        async with http.get(fake.api_url + "/users/@me") as resp:
            assert resp.headers["Content-Type"] == "application/json"
            assert (await resp.json())["id"] == str(fake.bot_user.id)
        async with http.get(fake.api_url + "/gateway/bot") as resp:
            assert (await resp.json())["url"] == fake.ws_url
        url = f"{fake.api_url}/channels/{guild.default_channel.id}/messages"
        form = aiohttp.FormData(quote_fields=False)
        form.add_field("payload_json", json.dumps({"content": "f", "allowed_mentions": {}}))
        form.add_field("files[0]", b"\x00\x01", filename="a.bin")
        async with http.post(url, data=form) as resp:
            sent = await resp.json()
        async with aiohttp.ClientSession() as anon, anon.get(sent["attachments"][0]["url"]) as resp:
            assert await resp.read() == b"\x00\x01"
        async with http.post(url, json={"content": "x" * 2001}) as resp:
            assert resp.status == 400 and (await resp.json())["code"] == 50035
        async with http.get(fake.api_url + "/stickers/1") as resp:
            assert resp.status == 404
        assert fake.unknown_routes == ["GET /api/v10/stickers/1"]
        kinds = sorted(v.split(":")[0] for v in fake.take_violations())
        assert kinds == ["invalid_message", "unknown_route"]


def test_pinged_mentions_rules() -> None:
    text = "hey @everyone <@1> <@!2> <@&3>"
    assert pinged_mentions(text, None) == ["@everyone", "<@1>", "<@!2>", "<@&3>"]
    assert pinged_mentions(text, {"parse": []}) == []
    assert pinged_mentions(text, {"parse": [], "users": ["2"]}) == ["<@!2>"]
    assert pinged_mentions(text, {"parse": ["roles"]}) == ["<@&3>"]
    problems = check_message({"embeds": [{"description": "d" * 4097}] * 11})
    assert {path for path, _ in problems.errors} >= {"embeds", "embeds.0.description"}


def test_an_embed_timestamp_must_be_iso8601() -> None:
    assert check_message({"embeds": [{"timestamp": "2026-11-28T23:22:59+00:00"}]}).errors == []
    problems = check_message({"embeds": [{"timestamp": "yesterday"}]})
    assert [where for where, _ in problems.errors] == ["embeds.0.timestamp"]


def test_render_message() -> None:
    fake = FakeDiscord()
    msg = FakeMessage(
        channel_id=1,
        guild_id=None,
        author=fake.bot_user,
        created_at=0.0,
        content="hello",
        embeds=[{"title": "T", "description": "body", "fields": [{"name": "k", "value": "v"}]}],
        components=[{"type": 1, "components": [{"type": 2, "label": "Go", "custom_id": "go"}]}],
    )
    text = render_message(msg)
    for part in ("lstm-bot [BOT]", "hello", "** T **", "body", "k: v", "[ Go ]"):
        assert part in text


def test_component_rules() -> None:
    def row(*buttons: dict) -> dict:
        return {"type": 1, "components": list(buttons)}

    ok = {"type": 2, "label": "Go", "custom_id": "go"}
    problems = check_message(
        {
            "components": [
                row(ok, dict(ok)),  # the same custom id twice
                row({"type": 2, "label": "x" * 81, "custom_id": "long"}),
                row({"type": 2, "label": "y", "custom_id": "i" * 101}),
                row(*[{"type": 2, "label": "z", "custom_id": f"z{i}"} for i in range(6)]),
            ]
        }
    )
    assert {path for path, _ in problems.errors} == {
        "components.0.components.1.custom_id",
        "components.1.components.0.label",
        "components.2.components.0.custom_id",
        "components.3.components",
    }


def test_command_rules() -> None:
    good = {
        "name": "generate",
        "description": "Write",
        "description_localizations": {"tr": "Yaz", "pt-BR": "Escrever"},
        "options": [
            {
                "type": 3,
                "name": "effort",
                "description": "How hard",
                "choices": [{"name": "quick", "value": "q", "name_localizations": {"tr": "hızlı"}}],
            }
        ],
    }
    menu = {"type": 3, "name": "Continue this text"}
    assert check_commands([good, menu]).errors == []
    bad = {
        "name": "Generate",  # uppercase
        "description": "d" * 101,
        "description_localizations": {"xx": "?", "tr": "t" * 101},
        "options": [
            {
                "type": 3,
                "name": "o",
                "description": "o",
                "choices": [{"name": "c", "value": "c", "name_localizations": {"tr": ""}}],
            }
        ],
    }
    paths = {path for path, _ in check_commands([bad, menu | {"description": "no"}]).errors}
    assert paths == {
        "0.name",
        "0.description",
        "0.description_localizations.xx",
        "0.description_localizations.tr",
        "0.options.0.choices.0.name_localizations.tr",
        "1",
    }
    assert check_commands([menu, dict(menu)]).errors  # the same name twice


async def test_a_bad_sync_is_refused() -> None:
    async with FakeDiscord() as fake, aiohttp.ClientSession(headers=AUTH) as http:
        url = f"{fake.api_url}/applications/{fake.application_id}/commands"
        bad = [{"name": "x", "description": "d", "description_localizations": {"tr": ""}}]
        async with http.put(url, json=bad) as resp:
            assert resp.status == 400 and (await resp.json())["code"] == 50035
        assert fake.commands[None] == []
        (violation,) = fake.take_violations()
        assert violation.startswith("invalid_command: sync (scope None): 0.description_local")

"""The fake shards like Discord: routing by ``(guild_id >> 22) % shard_count``, DMs to shard 0,
the recommended count, and close codes 4010 and 4011 (raw gateway clients and discord.py)."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import discord
import pytest

from fake_discord import FakeDiscord
from fake_discord.shards import shard_of
from fake_discord.testing import running_bot

AUTH = {"Authorization": "Bot fake-token"}
MSG = "MESSAGE_CREATE"


async def _connect(
    http: aiohttp.ClientSession, fake: FakeDiscord, shard: list[int] | None
) -> tuple[aiohttp.ClientWebSocketResponse, dict]:
    ws = await http.ws_connect(fake.ws_url + "?v=10&encoding=json")
    assert json.loads((await ws.receive()).data)["op"] == 10
    identify: dict = {"token": "t", "intents": 1 | 1 << 9 | 1 << 12, "properties": {}}
    if shard is not None:
        identify["shard"] = shard
    await ws.send_json({"op": 2, "d": identify})
    msg = await ws.receive()
    if msg.type != aiohttp.WSMsgType.TEXT:
        return ws, {}
    ready = json.loads(msg.data)
    assert ready["t"] == "READY"
    for _ in ready["d"]["guilds"]:
        assert json.loads((await ws.receive()).data)["t"] == "GUILD_CREATE"
    return ws, ready["d"]


async def _events(ws: aiohttp.ClientWebSocketResponse, wait: float = 0.3) -> list[dict]:
    found = []
    while True:
        try:
            msg = await ws.receive(timeout=wait)
        except TimeoutError:
            return found
        found.append(json.loads(msg.data))


def test_guild_ids_land_on_the_shard_asked_for() -> None:
    fake = FakeDiscord()
    for count in (1, 2, 3, 16):
        for shard_id in range(count):
            guild = fake.add_guild("G", shard=(shard_id, count))
            assert shard_of(guild.id, count) == shard_id
            assert guild.everyone_role.id == guild.id


async def test_gateway_bot_recommends_a_count_and_concurrency() -> None:
    async with FakeDiscord() as fake, aiohttp.ClientSession(headers=AUTH) as http:
        fake.add_guild("G")
        async with http.get(fake.api_url + "/gateway/bot") as resp:
            body = await resp.json()
        assert body["shards"] == 1 and body["session_start_limit"]["max_concurrency"] == 1
        fake.sharding.recommended, fake.sharding.max_concurrency = 4, 16
        async with http.get(fake.api_url + "/gateway/bot") as resp:
            body = await resp.json()
        assert body["shards"] == 4 and body["session_start_limit"]["max_concurrency"] == 16
    assert fake.sharding.__class__(recommended=None).recommend(2500) == 3


async def test_each_guilds_events_reach_only_its_shard_and_dms_shard_zero() -> None:
    async with FakeDiscord() as fake, aiohttp.ClientSession() as http:
        g0, g1 = fake.add_guild("zero", shard=(0, 2)), fake.add_guild("one", shard=(1, 2))
        alice = fake.add_user("alice")
        for guild in (g0, g1):
            fake.add_member(guild, alice)
        ws0, ready0 = await _connect(http, fake, [0, 2])
        ws1, ready1 = await _connect(http, fake, [1, 2])
        assert [g["id"] for g in ready0["guilds"]] == [str(g0.id)]
        assert [g["id"] for g in ready1["guilds"]] == [str(g1.id)]
        assert ready0["shard"] == [0, 2] and ready1["shard"] == [1, 2]
        await _events(ws0), await _events(ws1)  # member adds etc. before this point

        await fake.send_message(g1.default_channel, alice, "in one")
        await fake.invoke(g1, alice, "ping")
        await fake.send_message(fake.dm_channel(alice), alice, "a dm")
        got0, got1 = await _events(ws0), await _events(ws1)
        assert [(e["t"], e["d"].get("content")) for e in got0] == [("MESSAGE_CREATE", "a dm")]
        assert [e["t"] for e in got1] == ["MESSAGE_CREATE", "INTERACTION_CREATE"]
        assert all(e["d"]["guild_id"] == str(g1.id) for e in got1)

        g2 = fake.add_guild("new", shard=(0, 2))  # a server joined later: GUILD_CREATE
        assert [e["d"]["id"] for e in await _events(ws0)] == [str(g2.id)]
        assert await _events(ws1) == []
        await ws0.close()
        await ws1.close()


@pytest.mark.parametrize("shard", [[2, 2], [0, 0], [-1, 2], [0], "0,1"])
async def test_an_invalid_shard_is_closed_with_4010(shard: object) -> None:
    async with FakeDiscord() as fake, aiohttp.ClientSession() as http:
        ws, ready = await _connect(http, fake, shard)  # type: ignore[arg-type]
        assert ready == {} and ws.close_code == 4010


async def test_too_many_guilds_on_one_shard_is_closed_with_4011() -> None:
    async with FakeDiscord() as fake, aiohttp.ClientSession() as http:
        fake.sharding.max_guilds_per_shard = 2
        for shard_id in (0, 1, 0):
            fake.add_guild("G", shard=(shard_id, 2))
        ws, ready = await _connect(http, fake, None)
        assert ready == {} and ws.close_code == 4011
        ws, ready = await _connect(http, fake, [0, 2])  # two servers: allowed
        assert len(ready["guilds"]) == 2
        await ws.close()


async def test_discord_py_autosharded_client_uses_the_recommended_count() -> None:
    async with FakeDiscord() as fake:
        fake.sharding.recommended, fake.sharding.max_concurrency = 2, 2
        guilds = [fake.add_guild(f"G{i}", shard=(i % 2, 2)) for i in range(4)]
        seen: list[tuple[int, int | None]] = []

        class Client(discord.AutoShardedClient):
            async def before_identify_hook(self, shard_id, *, initial=False) -> None:
                pass  # max_concurrency 2: both shards identify at once

            async def on_message(self, message: discord.Message) -> None:
                seen.append((message.guild.id, self.shard_id_of(message.guild.id)))

            def shard_id_of(self, guild_id: int) -> int:
                return (guild_id >> 22) % self.shard_count

        client = Client(intents=discord.Intents(guilds=True, guild_messages=True))
        async with running_bot(fake, client):
            assert client.shard_count == 2 and sorted(client.shards) == [0, 1]
            assert {g.id for g in client.guilds} == {g.id for g in guilds}
            for guild in guilds:
                await fake.send_message(guild.default_channel, fake.owner, "hi")
            await fake.wait_until(lambda: len(seen) == 4, timeout=5)
            await asyncio.sleep(0.1)
            sent = {
                tuple(s.shard): [p["d"]["guild_id"] for p in s.sent if p.get("t") == MSG]
                for s in fake._sessions
            }
        assert sorted(seen) == sorted((g.id, i % 2) for i, g in enumerate(guilds))
        assert sent == {
            (i, 2): [str(g.id) for g in guilds if shard_of(g.id, 2) == i] for i in range(2)
        }

"""Discord's rate limits, the invalid-request counter and REST faults in the fake."""

from __future__ import annotations

import asyncio

import aiohttp
import discord
import pytest

from fake_discord import FakeDiscord
from fake_discord.faults import Faults
from fake_discord.limits import RateLimits
from fake_discord.testing import running_bot

AUTH = {"Authorization": "Bot fake-token"}


async def test_channel_messages_5_per_5_seconds_per_channel_with_discords_headers() -> None:
    async with FakeDiscord() as fake, aiohttp.ClientSession(headers=AUTH) as http:
        guild = fake.add_guild("G", channels=("a", "b"))
        a, b = guild.channel("a"), guild.channel("b")
        seen = []
        for i in range(6):
            url = f"{fake.api_url}/channels/{a.id}/messages"
            async with http.post(url, json={"content": str(i)}) as r:
                seen.append((r.status, dict(r.headers), await r.json()))
        for i, (status, headers, _) in enumerate(seen[:5]):
            assert status == 200
            assert headers["X-RateLimit-Limit"] == "5"
            assert headers["X-RateLimit-Remaining"] == str(4 - i)
            assert 0 < float(headers["X-RateLimit-Reset-After"]) <= 5
            assert float(headers["X-RateLimit-Reset"]) > 1e9  # epoch seconds
        assert len({h["X-RateLimit-Bucket"] for _, h, _ in seen}) == 1
        status, headers, body = seen[5]
        assert status == 429 and body["global"] is False and 0 < body["retry_after"] <= 5
        assert headers["X-RateLimit-Scope"] == "user" and headers["Via"]
        assert int(headers["Retry-After"]) >= 1 and headers["X-RateLimit-Remaining"] == "0"
        url = f"{fake.api_url}/channels/{b.id}/messages"
        async with http.post(url, json={"content": "1"}) as r:
            assert r.status == 200  # another channel, another bucket
        assert [m.content for m in fake.channel_messages(a)] == ["0", "1", "2", "3", "4"]
        (violation,) = fake.take_violations()
        assert violation.startswith("rate_limited: POST /channels/")
        assert fake.limits.limited == 1 and fake.limits.invalid_count == 1


async def test_rate_limits_switch_off() -> None:
    async with FakeDiscord(rate_limits=False) as fake, aiohttp.ClientSession(headers=AUTH) as http:
        channel = fake.add_guild("G").default_channel
        for i in range(8):
            url = f"{fake.api_url}/channels/{channel.id}/messages"
            async with http.post(url, json={"content": str(i)}) as r:
                assert r.status == 200 and "X-RateLimit-Limit" not in r.headers
        fake.assert_no_violations()


def test_global_limit_spares_interaction_callbacks_and_webhooks() -> None:
    limits = RateLimits(global_per_second=3, clock=lambda: 100.0)
    assert [limits.check("GET", "/users/@me").status for _ in range(3)] == [0, 0, 0]
    refused = limits.check("GET", "/users/@me")
    assert refused.status == 429 and refused.body["global"] is True
    assert refused.headers["X-RateLimit-Global"] == "true"
    assert limits.check("POST", "/interactions/1/ix.1.abc/callback").status == 0
    assert limits.check("PATCH", "/webhooks/1/ix.1.abc/messages/@original").status == 0
    assert limits.check("POST", "/webhooks/1/not-an-interaction").status == 429


def test_webhook_buckets_are_per_token() -> None:
    limits = RateLimits(clock=lambda: 5.0)
    edit = "/webhooks/1/ix.{}.t/messages/@original"
    assert all(limits.check("PATCH", edit.format(1)).status == 0 for _ in range(5))
    assert limits.check("PATCH", edit.format(1)).status == 429
    assert limits.check("PATCH", edit.format(2)).status == 0


async def test_past_the_invalid_request_limit_everything_is_refused() -> None:
    async with (
        FakeDiscord(invalid_request_limit=3) as fake,
        aiohttp.ClientSession() as http,
    ):
        for _ in range(3):  # no token: 401, invalid
            async with http.get(f"{fake.api_url}/users/@me") as r:
                assert r.status == 401
        async with http.get(f"{fake.api_url}/users/@me", headers=AUTH) as r:
            assert r.status == 429 and "Via" not in r.headers  # a Cloudflare ban
            assert "1015" in await r.text()
        kinds = [v.split(":", 1)[0] for v in fake.take_violations()]
        assert kinds == ["unauthorized"] * 3 + ["invalid_requests"]


async def test_discord_py_keeps_within_the_buckets() -> None:
    """The headers are right: the real client spaces 8 messages to one channel itself."""
    async with FakeDiscord() as fake:
        channel = fake.add_guild("G").default_channel
        client = discord.Client(intents=discord.Intents.default())
        async with running_bot(fake, client):
            target = client.get_channel(channel.id)
            await asyncio.gather(*(target.send(str(i)) for i in range(8)))
        assert sorted(int(m.content) for m in fake.channel_messages(channel)) == list(range(8))
        fake.assert_no_violations()


@pytest.mark.parametrize("kind", ["503", "reset"])
async def test_faults_on_demand(kind: str) -> None:
    async with FakeDiscord() as fake, aiohttp.ClientSession(headers=AUTH) as http:
        fake.faults = Faults(rate=1.0, kinds=(kind,))
        channel = fake.add_guild("G").default_channel
        url = f"{fake.api_url}/channels/{channel.id}/messages"
        if kind == "reset":
            with pytest.raises(aiohttp.ClientError):
                async with http.post(url, json={"content": "x"}) as r:
                    await r.read()
        else:
            async with http.post(url, json={"content": "x"}) as r:
                assert r.status == 503
        assert fake.channel_messages(channel) == []  # nothing was done
        assert fake.faults.counts[kind] == 1
        fake.faults.rate = 0
        async with http.post(url, json={"content": "y"}) as r:
            assert r.status == 200

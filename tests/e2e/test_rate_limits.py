"""The bot under Discord as it is: rate limits (on in every test), outages, lost answers."""

from __future__ import annotations

import aiohttp
import pytest

from bot.pacing import Pacing, channel_edit_key, deliver, route_key
from cogs.training.job_reporter import result_nonce
from cogs.writing import writer
from fake_discord.faults import Faults


async def test_a_reply_is_finished_through_outages(env, monkeypatch) -> None:
    """Half the requests fail (503, a reset connection): edits are skipped or tried again,
    and the reply ends with its final text and buttons, without a 429."""
    monkeypatch.setattr("bot.pacing.FIRST_DELAY", 0.05)
    monkeypatch.setattr(writer, "EDIT_INTERVAL", 0.05)
    env.fake.faults = Faults(rate=0.5, kinds=("503", "reset"), seed=3)
    ix = await env.fake.invoke(
        env.guild_a, env.alice, "generate", {"seed": "The ", "length": 300, "temperature": 0.5}
    )
    await ix.wait_content(lambda c: c and "300 characters" in c and "writing" not in c, 60)
    await ix.wait_for(lambda i: bool(i.original and i.original.custom_ids()), 10)
    assert env.fake.faults.counts["503"] + env.fake.faults.counts["reset"] > 0
    env.fake.faults.rate = 0
    assert env.bot.pacing.rate_limited == 0 and env.fake.limits.limited == 0
    env.fake.assert_no_violations()


async def test_a_job_result_whose_answer_was_lost_is_posted_once(env) -> None:
    queue, general = env.bot.jobs, env.guild_a.default_channel
    job, _ = await queue.submit(
        guild_id=env.guild_a.id,
        channel_id=general.id,
        user_id=env.alice.id,
        model_name="once",
        corpus=b"some text " * 300,
        params={"effort": "quick"},
    )
    env.fake.faults = Faults(rate=1.0, kinds=("lost",))
    reporter = env.bot.get_cog("Training").reporter
    with pytest.raises(aiohttp.ClientError):  # posted, but the bot never heard
        await reporter._post_result(job, {"card": {}})
    env.fake.faults.rate = 0
    await reporter._post_result(job, {"card": {}})  # the reporter's next try
    posted = [m for m in env.fake.channel_messages(general) if m.embeds]
    assert len(posted) == 1 and posted[0].nonce == result_nonce(await queue.identity(), job.id)
    env.fake.assert_no_violations()


def test_pacing_keeps_a_reserve_of_each_bucket() -> None:
    pacing = Pacing()
    key = channel_edit_key(42)
    assert key == route_key("PATCH", "/api/v10/channels/42/messages/777")
    assert pacing.may_edit(key)  # not seen yet
    path = "/api/v10/channels/42/messages/9"
    pacing.observe(
        "PATCH", path, 200, {"X-RateLimit-Remaining": "3", "X-RateLimit-Reset-After": "5"}
    )
    assert pacing.may_edit(key)
    pacing.observe(
        "PATCH", path, 200, {"X-RateLimit-Remaining": "2", "X-RateLimit-Reset-After": "5"}
    )
    assert not pacing.may_edit(key) and pacing.may_edit(channel_edit_key(43))
    pacing.observe(
        "PATCH", path, 200, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "0"}
    )
    assert pacing.may_edit(key)  # the window has passed
    pacing.observe("PATCH", path, 429, {})
    assert (pacing.rate_limited, pacing.invalid_requests) == (1, 1)


async def test_deliver_tries_again_after_an_outage_only() -> None:
    calls = []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise aiohttp.ServerDisconnectedError()
        return "ok"

    assert await deliver(flaky, "test", first_delay=0.01) == "ok" and len(calls) == 3

    async def refused() -> None:
        calls.append(1)
        raise ValueError("not an outage")

    calls.clear()
    with pytest.raises(ValueError):
        await deliver(refused, "test", first_delay=0.01)
    assert len(calls) == 1


async def test_results_of_two_queues_with_the_same_job_id_both_show(env, monkeypatch) -> None:
    """Job ids start at 1 in every queue database (a move to PostgreSQL): the nonce names the
    queue too, or Discord would hand back the first queue's result for the second's."""
    queue, general = env.bot.jobs, env.guild_a.default_channel
    job, _ = await queue.submit(
        guild_id=env.guild_a.id,
        channel_id=general.id,
        user_id=env.alice.id,
        model_name="first",
        corpus=b"some text " * 300,
        params={"effort": "quick"},
    )
    reporter = env.bot.get_cog("Training").reporter
    await reporter._post_result(job, {"card": {}})

    async def other_identity() -> str:
        return "f" * 32

    monkeypatch.setattr(queue, "identity", other_identity)
    await reporter._post_result(job, {"card": {}})
    assert len([m for m in env.fake.channel_messages(general) if m.embeds]) == 2


async def test_the_bot_talks_to_discord_over_a_bounded_pool_of_connections(env) -> None:
    """A burst of requests waits for a free connection instead of opening one each."""
    from bot.client import HTTP_CONNECTIONS

    connector = env.bot.http.connector
    assert connector.limit == HTTP_CONNECTIONS
    options = {"seed": "The ", "length": 20, "temperature": 0.5}
    ix = await env.fake.invoke(env.guild_a, env.alice, "generate", options)
    await ix.wait_content(lambda c: c and "20 characters" in c and "writing" not in c, 30)
    env.fake.assert_no_violations()

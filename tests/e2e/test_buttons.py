"""Continue and Regenerate under a reply, through the real discord.py client and the fake
Discord: the reply grows or goes on below, a new take comes as a new message, the buttons
survive a restart and go away when they can no longer work."""

from __future__ import annotations

import threading

import pytest

from bot.client import LSTMBot
from cogs.writing.reply_buttons import ContinueButton
from cogs.writing.reply_text import ReplyState, parse_whole
from fake_discord import FakeDiscord
from fake_discord.testing import running_bot
from model_store.sampling import BatchSampler

from .helpers import answered, hold_database, reply, wait_until


def button(message, label: str) -> str:
    for row in message.components:
        for comp in row["components"]:
            if comp.get("label") == label:
                return comp["custom_id"]
    raise AssertionError(f"no button {label!r} on {message.content[:60]!r}")


def body(content: str) -> str:
    return content.split("\n-# ", 1)[0]


def shown(message) -> tuple[str, str]:
    """The seed and the text a reply shows (read as the Continue button reads it)."""
    match = ContinueButton.__discord_ui_compiled_template__.fullmatch(button(message, "Continue"))
    found = parse_whole(message.content, ReplyState.decode(match["state"]).seed_length)
    assert found is not None, message.content
    return found


def finished(ix) -> bool:
    return ix.done and "writing…" not in (ix.content or "")


async def generated(env, user=None, **options):
    options = {"seed": "The cat", "temperature": 0.5, "length": 60} | options
    ix = await env.fake.invoke(env.guild_a, user or env.alice, "generate", options)
    await ix.wait_for(finished, 30, "the final reply")
    return ix


async def pressed(env, message, label: str, user=None):
    click = await env.fake.click(message, user or env.alice, button(message, label))
    await click.wait_acked(timeout=5)
    return click


async def answer(click):
    """Wait for what the presser is told (an error: an ephemeral message of its own)."""
    await click.wait_for(lambda i: any(m is not i.message for m in i.messages), 15, "an answer")
    return click


def told_privately(click) -> bool:
    """The presser alone saw the answer: only ephemeral messages besides the clicked one."""
    messages = [m for m in click.messages if m is not click.message]
    return bool(messages) and all(m.ephemeral for m in messages)


async def settled(env, message, predicate, timeout: float = 30):
    await env.fake.wait_until(lambda: predicate(message), timeout)
    return message


async def test_continue_grows_the_reply(env):
    ix = await generated(env)
    message = ix.original
    before = body(message.content)
    click = await pressed(env, message, "Continue", env.carol)  # anyone may press it
    assert click.response_type == 6  # acknowledged at once, the message stays
    await settled(env, message, lambda m: "120 characters" in m.content)
    assert body(message.content).startswith(before) and len(body(message.content)) > len(before)
    assert "basic · temperature 0.5 · 120 characters" in message.content
    assert button(message, "Continue") and button(message, "Regenerate")
    assert click.followups == [] and env.fake.take_violations() == []


async def test_continue_goes_on_in_a_new_message_past_the_limit(env):
    ix = await generated(env, length=900)
    message = ix.original
    seed, text = shown(message)
    shown_before = message.content
    click = await pressed(env, message, "Continue")
    await click.wait_for(lambda i: i.followups and i.followups[0].components, 30)
    await settled(env, message, lambda m: m.components == [])  # the old one's buttons go
    (new,) = click.followups
    assert not new.ephemeral and message.content == shown_before  # the old one stays
    context, more = shown(new)  # it starts with the end of the text so far
    assert len(context) >= 150 and (seed + text).endswith(context) and len(more) == 900
    assert "basic · temperature 0.5 · 900 characters" in new.content
    assert env.fake.take_violations() == []


async def test_continue_reads_a_long_reply_from_its_attachment(env):
    env.bot.settings = env.settings.replace(max_length=5000)
    ix = await generated(env, length=2500)
    ((_, data),) = ix.files
    whole = data.decode()
    click = await pressed(env, ix.original, "Continue")
    await click.wait_for(lambda i: i.followups and i.followups[0].components, 60)
    (new,) = click.followups
    context, _ = shown(new)
    assert whole.endswith(context)  # where the whole text ends, not where the preview does
    assert env.fake.take_violations() == []


async def test_regenerate_writes_the_seed_again_in_a_new_message(env):
    ix = await generated(env, seed="The old man", temperature=1.0, length=200, rng_seed=7)
    click = await pressed(env, ix.original, "Regenerate", env.carol)
    await click.wait_for(lambda i: i.followups and i.followups[0].components, 30)
    (new,) = click.followups
    assert shown(new)[0] == "The old man" and "200 characters" in new.content
    assert shown(new)[1] != shown(ix.original)[1]  # a new random seed
    assert ix.original.components  # the first take keeps its buttons
    assert env.fake.take_violations() == []


async def test_the_buttons_work_after_a_restart(settings, builtin_dir):
    async with FakeDiscord(quiet_period=0.05) as fake:
        guild, alice = fake.add_guild("G"), fake.add_user("alice")
        fake.add_member(guild, alice)
        first = LSTMBot(settings, sync_commands=True, builtin_root=builtin_dir)
        async with running_bot(fake, first):
            ix = await fake.invoke(guild, alice, "generate", {"seed": "The", "temperature": 0.5})
            await ix.wait_for(finished, 30, "the final reply")
        message = ix.original
        second = LSTMBot(settings, sync_commands=True, builtin_root=builtin_dir)
        async with running_bot(fake, second):
            await fake.click(message, alice, button(message, "Continue"))
            await fake.wait_until(lambda: "800 characters" in message.content, 30)
        fake.assert_no_violations()


@pytest.mark.parametrize("label", ["Continue", "Regenerate"])
async def test_a_deleted_model_says_so_and_its_buttons_go(env, tiny_model, label):
    record = await env.add_guild_model(env.guild_a, env.alice, "going", tiny_model.artifact)
    ix = await generated(env, model="going")
    await env.bot.get_cog("Models").deletion.delete(record)
    click = await answer(await pressed(env, ix.original, label))
    assert told_privately(click) and "has been deleted" in reply(click)
    await settled(env, ix.original, lambda m: m.components == [])
    assert "going · temperature" in ix.original.content  # the text stays


async def test_a_damaged_model_says_so_and_keeps_its_buttons(env):
    ix = await generated(env)
    record = await env.bot.registry.get(env.guild_a.id, "basic")
    env.bot.registry.mark_broken(record.path, record.checksum, OSError("disk says no"))
    click = await answer(await pressed(env, ix.original, "Continue"))
    assert told_privately(click) and "files are damaged (disk says no)" in reply(click)
    assert ix.original.components


async def test_the_buttons_share_generates_cooldown(env):
    env.bot.settings = env.settings.replace(generate_cooldown=60)
    ix = await generated(env)
    mine = await answer(await pressed(env, ix.original, "Continue"))
    assert told_privately(mine) and "Slow down" in reply(mine)
    carols = await pressed(env, ix.original, "Regenerate", env.carol)
    await carols.wait_for(lambda i: i.followups and i.followups[0].components, 30)
    again = await env.fake.invoke(
        env.guild_a, env.carol, "generate", {"seed": "The", "temperature": 0.5}
    )
    await answered(again)
    assert told_privately(again) and "Slow down" in reply(again)


async def test_one_continue_at_a_time(env, monkeypatch):
    ix = await generated(env)
    held, go = threading.Event(), threading.Event()
    step = BatchSampler.step

    def slow_step(self):
        if held.is_set():
            assert go.wait(30)
        return step(self)

    monkeypatch.setattr(BatchSampler, "step", slow_step)
    env.bot.settings = env.settings.replace(generate_cooldown=60)
    held.set()
    first = await pressed(env, ix.original, "Continue")
    await wait_until(lambda: env.bot.generation.in_flight == 1, what="the first Continue")
    second = await answer(await pressed(env, ix.original, "Continue", env.carol))
    assert told_privately(second) and "already continuing" in reply(second)
    go.set()
    await settled(env, ix.original, lambda m: "120 characters" in m.content)
    assert first.followups == []
    # The refused press cost carol nothing: she is not on cooldown.
    again = await pressed(env, ix.original, "Regenerate", env.carol)
    await again.wait_for(lambda i: i.followups and i.followups[0].components, 30)


async def test_a_press_is_acknowledged_before_database_work(env, monkeypatch):
    ix = await generated(env)
    released = hold_database(monkeypatch)
    click = await env.fake.click(ix.original, env.carol, button(ix.original, "Continue"))
    try:
        await click.wait_acked(timeout=10)
    finally:
        released.set()
    await settled(env, ix.original, lambda m: "120 characters" in m.content and m.components)
    released.clear()
    click = await env.fake.click(ix.original, env.carol, button(ix.original, "Regenerate"))
    try:
        await click.wait_acked(timeout=10)
    finally:
        released.set()
    await click.wait_for(lambda i: i.followups and i.followups[0].components, 30)


def test_the_custom_ids_hold_only_the_model_and_the_options():
    """The model's row id and name and the options: nothing of the text, nothing about
    anyone."""
    state = ReplyState(12, "basic", 0.5, 400, 1.0, 7, None)
    assert state.encode() == "12:basic:0.5:400:1:7:"
    assert ReplyState.decode(state.encode()) == state
    with pytest.raises(ValueError):
        ReplyState.decode("12:basic:0.5:400:1:7:x")


async def test_a_new_model_that_takes_a_deleted_ones_place_is_not_used(env, tiny_model):
    """A new model of the deleted one's name (model ids are never reused): the buttons of a
    reply written with the deleted model must still say it is gone."""
    record = await env.add_guild_model(env.guild_a, env.alice, "going", tiny_model.artifact)
    ix = await generated(env, model="going")
    await env.bot.get_cog("Models").deletion.delete(record)
    newer = await env.add_guild_model(env.guild_a, env.alice, "going", tiny_model.artifact)
    assert newer.id != record.id
    click = await answer(await pressed(env, ix.original, "Continue"))
    assert told_privately(click) and "has been deleted" in reply(click)
    await settled(env, ix.original, lambda m: m.components == [])


async def test_a_press_keeps_to_the_length_limit_of_today(env):
    """The operator lowered LSTM_BOT_MAX_LENGTH since the reply was written: a press writes no
    more than the limit allows now."""
    ix = await generated(env, length=60)
    env.bot.settings = env.settings.replace(max_length=25)
    await pressed(env, ix.original, "Continue")
    await settled(env, ix.original, lambda m: "85 characters" in m.content)
    click = await pressed(env, ix.original, "Regenerate")
    await click.wait_for(lambda i: i.followups and i.followups[0].components, 30)
    assert "· 25 characters" in click.followups[0].content


# -- downloading a reply's generated.txt (issue 18, finding 3) ----------------------------------


def failing_cdn(monkeypatch, how: str):
    """Make every download from Discord's CDN fail as ``how`` says, until the returned
    function is called."""
    import asyncio
    from types import SimpleNamespace

    import aiohttp
    import discord

    from bot import downloads

    real = discord.http.HTTPClient.get_from_cdn
    failing = [True]

    async def get_from_cdn(self, url):
        if not failing[0]:
            return await real(self, url)
        if how == "timeout":
            await asyncio.sleep(3600)
        if how == "reset":
            raise aiohttp.ClientConnectionResetError("Connection reset by peer")
        response = SimpleNamespace(status=int(how), reason="Service Unavailable")
        raise discord.DiscordServerError(response, "failed to get asset")

    monkeypatch.setattr(downloads, "DOWNLOAD_SECONDS", 0.3)
    monkeypatch.setattr(discord.http.HTTPClient, "get_from_cdn", get_from_cdn)
    return lambda: failing.__setitem__(0, False)


@pytest.mark.parametrize("how", ["503", "timeout", "reset"])
async def test_a_passing_download_failure_says_try_again_and_keeps_the_buttons(
    env, monkeypatch, how
):
    env.bot.settings = env.settings.replace(max_length=5000)
    ix = await generated(env, length=2500)
    heal = failing_cdn(monkeypatch, how)
    for label in ("Continue", "Regenerate"):
        click = await answer(await pressed(env, ix.original, label))
        assert told_privately(click) and "try again in a moment" in reply(click)
        assert ix.original.components  # the buttons stay
    heal()
    click = await pressed(env, ix.original, "Continue")
    await click.wait_for(lambda i: i.followups and i.followups[0].components, 60)
    assert env.fake.take_violations() == []


async def test_an_attachment_that_is_gone_removes_the_buttons(env):
    env.bot.settings = env.settings.replace(max_length=5000)
    ix = await generated(env, length=2500)
    for attachment in ix.original.attachments:
        del env.fake.attachments[attachment.id]  # Discord's CDN no longer has it
    click = await answer(await pressed(env, ix.original, "Continue"))
    assert told_privately(click) and "can't read this reply's text back" in reply(click)
    await settled(env, ix.original, lambda m: m.components == [])

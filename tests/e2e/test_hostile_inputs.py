"""Issue 18, findings 5, 7 and 8: what a hostile (or unlucky) user tries, through the real
discord.py client and the fake Discord."""

from __future__ import annotations

from .helpers import answered, private, reply
from .test_buttons import (
    answer,
    button,
    finished,
    generated,
    pressed,
    settled,
    told_privately,
)
from .test_message_command import CONTINUE


async def test_a_negative_zero_temperature_writes_a_reply_with_working_buttons(env):
    """Finding 7: -0.0 passes Discord's minimum of 0; it is 0 everywhere (footer, buttons)."""
    ix = await env.fake.invoke(
        env.guild_a, env.alice, "generate", {"seed": "The", "temperature": -0.0, "length": 30}
    )
    await ix.wait_for(lambda i: finished(i) or bool(i.followups), 30, "the final reply")
    assert not ix.followups, reply(ix)
    assert "basic · temperature 0 · 30 characters" in ix.original.content
    assert ix.original.components
    await pressed(env, ix.original, "Continue")
    await settled(env, ix.original, lambda m: "60 characters" in m.content and m.components)


async def test_the_temperature_a_reply_shows_is_the_one_its_buttons_carry(env):
    """More digits than the custom id keeps: the reply and its Continue use the same value."""
    ix = await env.fake.invoke(
        env.guild_a,
        env.alice,
        "generate",
        {"seed": "The", "temperature": 0.123456789, "length": 30},
    )
    await ix.wait_for(finished, 30, "the final reply")
    assert "temperature 0.1235 ·" in ix.original.content
    assert ":0.1235:" in button(ix.original, "Continue")


# -- finding 5: a refused request costs no cooldown -----------------------------------------


def on_cooldown(env) -> None:
    env.bot.settings = env.settings.replace(generate_cooldown=60)


async def writes(env, user) -> None:
    """``user`` may write now: a /generate of theirs is written, not refused."""
    ix = await env.fake.invoke(
        env.guild_a, user, "generate", {"seed": "The", "temperature": 0.5, "length": 20}
    )
    await ix.wait_for(lambda i: finished(i) or bool(i.followups), 30, "an answer")
    assert not ix.followups, reply(ix)
    assert "20 characters" in ix.original.content


async def test_refused_commands_cost_no_cooldown(env):
    on_cooldown(env)
    channel = env.guild_a.default_channel
    embed_only = env.fake.create_message(
        channel, env.alice, {"content": "", "embeds": [{"title": "a card"}]}
    )
    guild, carol = env.guild_a, env.carol
    refusals = [  # one after another: each one's refusal comes before the next is sent
        lambda: env.fake.invoke_message_command(guild, carol, CONTINUE, embed_only),
        lambda: env.fake.invoke(
            guild, carol, "generate", {"seed": "The", "temperature": 0.5, "model": "no"}
        ),
        lambda: env.fake.invoke(guild, carol, "generate", {"seed": "   ", "temperature": 1}),
        lambda: env.fake.invoke(guild, carol, "generate", {"seed": "ÆØÅ", "temperature": 1}),
    ]
    for send in refusals:
        ix = await answered(await send())
        assert private(ix) and "Slow down" not in reply(ix)
    await writes(env, env.carol)
    again = await answered(
        await env.fake.invoke(env.guild_a, env.carol, "generate", {"seed": "The", "temperature": 1})
    )
    assert "Slow down" in reply(again)  # a request that writes does cost it


async def test_a_refused_press_costs_no_cooldown(env, tiny_model):
    record = await env.add_guild_model(env.guild_a, env.alice, "going", tiny_model.artifact)
    replies = [await generated(env, model="going"), await generated(env, model="going")]
    await env.bot.get_cog("Models").deletion.delete(record)
    on_cooldown(env)
    for ix, label in zip(replies, ("Continue", "Regenerate"), strict=True):
        click = await answer(await pressed(env, ix.original, label, env.carol))
        assert told_privately(click) and "has been deleted" in reply(click)
    await writes(env, env.carol)


# -- finding 8: what confused people --------------------------------------------------------


async def test_a_press_keeps_the_replys_language_and_answers_in_the_pressers(env):
    turkish = env.fake.add_user("ayse", locale="tr")
    env.fake.add_member(env.guild_a, turkish)
    ix = await generated(env, turkish)
    assert "sıcaklık 0,5 · 60 karakter" in ix.original.content
    await pressed(env, ix.original, "Devam et")  # alice reads English
    await settled(env, ix.original, lambda m: "120 karakter" in m.content and m.components)
    assert "basic · sıcaklık 0,5 · 120 karakter" in ix.original.content
    assert button(ix.original, "Devam et") and button(ix.original, "Yeniden yaz")
    on_cooldown(env)
    again = await pressed(env, ix.original, "Yeniden yaz")  # alice's take
    await again.wait_for(lambda i: i.followups and i.followups[0].components, 30)
    # a new take is the presser's own, as their /generate would be
    assert "basic · temperature 0.5 · 60 characters" in again.followups[0].content
    # what only the presser reads is in their language
    slow = await answer(await pressed(env, ix.original, "Devam et"))
    assert told_privately(slow) and reply(slow).startswith("Slow down")


async def test_a_continuation_in_a_new_message_keeps_the_texts_language(env):
    turkish = env.fake.add_user("ayse", locale="tr")
    env.fake.add_member(env.guild_a, turkish)
    ix = await generated(env, turkish, length=900)
    click = await pressed(env, ix.original, "Devam et")  # alice reads English
    await click.wait_for(lambda i: i.followups and i.followups[0].components, 30)
    (new,) = click.followups
    assert "basic · sıcaklık 0,5 · 900 karakter" in new.content and button(new, "Devam et")


def test_a_wait_under_a_second_is_never_0_s():
    from discord import app_commands

    from bot.tree import describe_error

    def said(retry: float) -> str:
        error = app_commands.CommandOnCooldown(app_commands.Cooldown(1, 60), retry)
        return describe_error(error, "en-US")[0]

    assert said(0.2) == "Slow down: you can use this again in 1 s."
    assert said(59.01) == "Slow down: you can use this again in 60 s."
    assert said(3.0) == "Slow down: you can use this again in 3 s."


async def test_model_names_are_shown_literally(env, tiny_model):
    """A name like ``a__b__c`` would show underlined where markdown applies."""
    await env.add_guild_model(env.guild_a, env.alice, "a__b__c", tiny_model.artifact)
    info = await env.fake.invoke(env.guild_a, env.alice, "model info", {"name": "a__b__c"})
    await info.wait_for(lambda i: i.embeds, timeout=15)
    assert info.embeds[0]["title"] == r"Model a\_\_b\_\_c"
    listed = await answered(await env.fake.invoke(env.guild_a, env.alice, "model list"))
    names = [f["name"] for f in listed.embeds[0]["fields"]]
    assert r"a\_\_b\_\_c" in names
    ix = await generated(env, model="a__b__c")
    assert r"-# a\_\_b\_\_c · temperature 0.5" in ix.original.content


async def test_a_press_while_continue_writes_is_told_busy(env, monkeypatch):
    """The reply keeps its buttons while a Continue writes into it: a press then is answered
    "busy" (a press on buttons that vanished would read "This interaction failed")."""
    import threading
    import time

    from model_store.sampling import BatchSampler

    ix = await generated(env)
    slow, step = threading.Event(), BatchSampler.step

    def slow_step(self):
        if slow.is_set():
            time.sleep(0.03)
        return step(self)

    monkeypatch.setattr(BatchSampler, "step", slow_step)
    slow.set()
    await pressed(env, ix.original, "Continue")
    await settled(env, ix.original, lambda m: "writing…" in m.content)
    assert button(ix.original, "Continue") and button(ix.original, "Regenerate")
    for label in ("Continue", "Regenerate"):
        busy = await answer(await pressed(env, ix.original, label, env.carol))
        assert told_privately(busy) and "already continuing" in reply(busy)
    slow.clear()
    await settled(env, ix.original, lambda m: "120 characters" in m.content)


async def test_server_commands_in_dms_say_use_them_in_a_server(env):
    for command, options in [
        ("model default", {"name": "basic"}),
        ("model delete", {"name": "basic"}),
        ("job status", {}),
        ("job list", {}),
        ("job cancel", {"id": 1}),
        ("train", {"file": env.fake.add_attachment("a.txt", b"some text"), "name": "mine"}),
    ]:
        ix = await answered(await env.fake.invoke(None, env.alice, command, options))
        assert reply(ix) == "That command works in a server, not in DMs.", command

"""Issue 18, findings 5, 7 and 8: what a hostile (or unlucky) user tries, through the real
discord.py client and the fake Discord."""

from __future__ import annotations

import dataclasses

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
    env.bot.settings = dataclasses.replace(env.settings, generate_cooldown=60)


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
    await env.bot.get_cog("Models").delete_model(record)
    on_cooldown(env)
    for ix, label in zip(replies, ("Continue", "Regenerate"), strict=True):
        click = await answer(await pressed(env, ix.original, label, env.carol))
        assert told_privately(click) and "has been deleted" in reply(click)
    await writes(env, env.carol)

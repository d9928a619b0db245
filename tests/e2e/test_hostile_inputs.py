"""Issue 18, findings 5, 7 and 8: what a hostile (or unlucky) user tries, through the real
discord.py client and the fake Discord."""

from __future__ import annotations

from .helpers import reply
from .test_buttons import button, finished, pressed, settled


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

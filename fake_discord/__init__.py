"""A fake Discord server that the real, unmodified discord.py client connects to.

One aiohttp application on 127.0.0.1 serves Discord's REST API v10 (``/api/v10``), the
gateway (``/gateway``, JSON or ``zlib-stream``/``zstd-stream`` compressed) and attachment
bytes (``/attachments/{id}/{filename}``). Tests build a world, run a bot against it, act as
users, and check what the bot did and whether it broke Discord's rules.

Quick start::

    from fake_discord import FakeDiscord
    from fake_discord.testing import running_bot

    async with FakeDiscord(ack_timeout=0.5) as fake:
        guild = fake.add_guild("Guild A")              # #general, @everyone, bot, owner
        alice = fake.add_user("alice")
        fake.add_member(guild, alice)
        async with running_bot(fake, make_bot()):      # patches discord.py, waits for ready
            ix = await fake.invoke(guild, alice, "generate", {"seed": "hi"})
            await ix.wait_done(timeout=5)
            assert ix.content.startswith("hi")
        fake.assert_no_violations()

World: ``add_guild(name, channels=("general",))``, ``add_channel(guild, name)``,
``delete_channel(channel)``,
``add_user(name, locale="en-US")``,
``add_member(guild, user, permissions=None, roles=(), admin=False)``,
``add_role(guild, name, permissions=0)``, ``dm_channel(user)``,
``add_attachment(filename, data, content_type=None)``.

Acting as users (each returns a ``FakeInteraction`` at once, except ``autocomplete``):
``invoke(guild, user, "cmd", options, subcommand=, group=, channel=)``,
``invoke_message_command(guild, user, "Name", message)``,
``autocomplete(guild, user, "cmd", focused=, value=, options=) -> list[choice dict]``,
``click(message_or_interaction, user, custom_id, values=None)``,
``submit_modal(ix, user, {custom_id: value})``, ``send_message(channel, user, content)``.

Looking: ``FakeInteraction`` (``acknowledged_after``, ``deferred``, ``ephemeral``,
``content``, ``edits``, ``embeds``, ``files``, ``components``, ``followups``,
``allowed_mentions``, ``choices``, ``modal``; waits ``wait_done``, ``wait_acked``,
``wait_edits``, ``wait_followups``, ``wait_content``, ``wait_for``),
``channel_messages(channel)``, ``wait_for_message(channel, predicate, timeout)``,
``commands`` (``{None: global, guild_id: [...]}``), ``find_command(name, guild)``,
``interactions``, ``requests``, ``unknown_routes``.

Rules: ``violations`` (list of ``"kind: text"``), ``assert_no_violations()``,
``take_violations()``. Kinds: ack_timeout, double_ack, invalid_message, would_ping,
invalid_autocomplete, invalid_command, invalid_callback, token_expired, not_acked, unknown_route,
unknown_interaction, unknown_webhook, unauthorized, rate_limited, invalid_requests.
``advance_clock(seconds)`` ages tokens. Rate limits (``fake.limits``) are on by default;
faults on demand: ``fake.faults``, ``disconnect_bots``, ``request_reconnect``,
``invalidate_sessions``, ``drop_heartbeat_acks``.

See README.md in this folder for more.
"""

from .interactions import FakeInteraction, InteractionNotDone
from .models import (
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeUser,
    MessageEdit,
)
from .render import render_interaction, render_message
from .server import FakeAddress, FakeDiscord
from .testing import running_bot

__all__ = [
    "FakeAddress",
    "FakeAttachment",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeInteraction",
    "FakeMember",
    "FakeMessage",
    "FakeRole",
    "FakeUser",
    "InteractionNotDone",
    "MessageEdit",
    "render_interaction",
    "render_message",
    "running_bot",
]

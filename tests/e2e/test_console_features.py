"""The offline console's buttons, message command and language (issue 10.5): the real bot
against the fake Discord, driven line by line as a person at the console would."""

from __future__ import annotations

import io
import re

import pytest

from cli.console import Console, ConsoleError, run_console


@pytest.fixture
def console(env):
    out = io.StringIO()
    console = Console(env.fake, out, env.bot)
    env.bot.tree.error_listeners.append(console.bot_error)
    yield console
    env.bot.tree.error_listeners.remove(console.bot_error)


async def run(console: Console, line: str) -> str:
    """Run one line; what it printed."""
    start = len(console.out.getvalue())
    await console.run_line(line)
    return console.out.getvalue()[start:]


async def test_buttons_are_shown_and_click_presses_them(console):
    text = await run(console, '/generate seed:"The cat" temperature:0.5 length:60')
    assert "(basic · temperature 0.5 · 60 characters)" in text
    assert "[ Continue ]  [ Regenerate ]" in text
    text = await run(console, "click Continue")
    assert "(basic · temperature 0.5 · 120 characters)" in text
    assert "[ Continue ]  [ Regenerate ]" in text
    text = await run(console, "click regenerate")  # labels in any case
    assert "The cat" in text and "(basic · temperature 0.5 · 60 characters)" in text
    assert "120 characters" not in text  # only the new message is shown
    text = await run(console, "click Continue")  # the newest message's buttons
    assert "(basic · temperature 0.5 · 120 characters)" in text
    with pytest.raises(ConsoleError, match="no button 'Frobnicate'"):
        await run(console, "click Frobnicate")


async def test_continue_runs_the_message_command(console):
    text = await run(console, "say The dog ran home")
    (message_id,) = re.findall(r"message (\d+)", text)
    text = await run(console, f"continue {message_id}")
    assert "The dog ran home" in text and "(basic · temperature 0.7 · 400 characters)" in text
    assert "[ Continue ]  [ Regenerate ]" in text
    await run(console, "say The bird")
    text = await run(console, "continue")  # the channel's latest message
    assert "The bird" in text and "temperature 0.7" in text
    with pytest.raises(ConsoleError, match="no message 12345"):
        await run(console, "continue 12345")
    with pytest.raises(ConsoleError, match="say TEXT"):
        await run(console, "say")


async def test_locale_switches_the_console_users_language(console):
    text = await run(console, "locale tr")
    assert "tr" in text
    text = await run(console, '/generate seed:"The" temperature:0.5 length:20')
    assert "(basic · sıcaklık 0,5 · 20 karakter)" in text and "[ Devam et ]" in text
    text = await run(console, "click Devam et")
    assert "40 karakter" in text
    text = await run(console, "locale")
    assert "tr" in text
    with pytest.raises(ConsoleError, match="pt-BR"):  # the error lists the locales
        await run(console, "locale klingon")
    await run(console, "locale en-US")
    text = await run(console, '/generate seed:"The" temperature:0.5 length:20')
    assert "temperature 0.5" in text


async def test_a_scripted_console_with_buttons_exits_cleanly(settings, builtin_dir):
    script = io.StringIO(
        '/generate seed:"The cat" temperature:0.5 length:40\n'
        "click Continue\n"
        "say Once upon a time\n"
        "continue\n"
        "locale pt-BR\n"
        "click Regenerate\n"
        "help\n"
    )
    out = io.StringIO()
    code = await run_console(
        settings, stdin=script, out=out, builtin_root=builtin_dir, worker=False
    )
    text = out.getvalue()
    assert code == 0, text
    assert "80 characters" in text and "Once upon a time" in text
    assert "temperatura 0,7" in text  # the regenerated take, in Portuguese
    for line in ("click LABEL", "say TEXT", "continue [MESSAGE_ID]", "locale [LOCALE]"):
        assert line in text
    assert "/Continue this text" not in text  # the message command is not a slash command


async def test_click_still_answers_confirmations(console, env, tiny_model):
    guild = console.guild
    await env.add_guild_model(guild, console.user, "mine", tiny_model.artifact)
    text = await run(console, "/model delete name:mine")
    assert "Delete `mine`?" in text
    text = await run(console, "click delete")
    assert "Deleted `mine`" in text


async def test_the_console_runs_beside_the_real_bot(settings, builtin_dir):
    """The console talks to a fake Discord: it takes no part in the real bot's shards (as
    before shards, it runs on the bot's data folder while the bot serves), and leaves them."""
    import os

    from bot.db import bot_database
    from bot.sharding import ShardClaims
    from cogs.writing.reply_text import ReplyState
    from cogs.writing.unfinished import Unfinished, UnfinishedReplies

    writing = Unfinished(1 << 60, 2 << 50, 7 << 22, ReplyState(3, "basic", 0.5, 40, 1.0, 1), "tr")
    async with bot_database(settings.database_path) as db:
        await ShardClaims(db, pid=os.getppid()).claim(4, (0, 1, 2, 3))  # `lstm-bot run`, live
        await UnfinishedReplies(db).begin(writing)  # a reply it is writing now
    out = io.StringIO()
    script = io.StringIO('/generate seed:"The cat" temperature:0.5 length:20\n')
    code = await run_console(
        settings, stdin=script, out=out, builtin_root=builtin_dir, worker=False
    )
    assert code == 0 and "20 characters" in out.getvalue(), out.getvalue()
    async with bot_database(settings.database_path) as db:
        rows = await db.fetchall("SELECT shard_id, pid FROM bot_shards ORDER BY shard_id")
        assert [u.message_id for u in await UnfinishedReplies(db).all()] == [writing.message_id]
    assert [tuple(r) for r in rows] == [(i, os.getppid()) for i in range(4)]

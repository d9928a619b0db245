"""The "Continue this text" message command (right-click a message > Apps) and a server's
default model (/model default), through the real discord.py client and the fake Discord."""

from __future__ import annotations

import pytest

from .helpers import answered, hold_database, private, reply
from .test_buttons import button, finished, shown

CONTINUE = "Continue this text"


async def continued(env, message, user=None):
    ix = await env.fake.invoke_message_command(env.guild_a, user or env.carol, CONTINUE, message)
    await ix.wait_for(lambda i: finished(i) or (i.original and i.original.deleted), 30, "reply")
    return ix


async def test_the_message_is_the_seed_with_the_default_model(env):
    channel = env.guild_a.default_channel
    message = await env.fake.send_message(channel, env.alice, "The cat sat on the mat")
    ix = await continued(env, message)
    seed, text = shown(ix.original)
    assert seed == "The cat sat on the mat" and len(text) == 400
    assert "basic · temperature 0.7 · 400 characters" in ix.original.content
    assert button(ix.original, "Continue") and button(ix.original, "Regenerate")
    assert not ix.original.ephemeral and env.fake.take_violations() == []


async def test_nothing_of_the_message_is_stored(env):
    secret = "The zebra quietly ate marmalade"
    channel = env.guild_a.default_channel
    message = await env.fake.send_message(channel, env.alice, secret)
    ix = await continued(env, message)
    assert shown(ix.original)[0] == secret
    await env.bot.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for path in env.settings.data_dir.rglob("*"):
        if path.is_file():
            assert b"zebra" not in path.read_bytes(), path
    for row in ix.original.components:  # the buttons carry no text either
        for comp in row["components"]:
            assert "zebra" not in comp["custom_id"]


async def test_a_long_message_is_cut_to_the_seed_limit_at_a_word(env):
    words = " ".join(f"word{i}" for i in range(200))  # about 1,300 characters
    channel = env.guild_a.default_channel
    message = await env.fake.send_message(channel, env.alice, words)
    ix = await continued(env, message)
    seed, _ = shown(ix.original)
    assert len(seed) <= 500 and words.endswith(seed) and seed.startswith("word")


async def test_unknown_characters_are_skipped_as_generate_does(env):
    channel = env.guild_a.default_channel
    message = await env.fake.send_message(channel, env.alice, "The cat ☃ sat")
    ix = await continued(env, message)
    assert "skipped unknown characters: ☃" in ix.original.content


@pytest.mark.parametrize(
    "content, attachments, expected",
    [
        ("", ["a.png"], "only attachments"),
        ("   ", [], "no text for me to continue"),
    ],
)
async def test_a_message_without_text_gets_a_clear_error(env, content, attachments, expected):
    channel = env.guild_a.default_channel
    files = [env.fake.add_attachment(name, b"x") for name in attachments]
    message = await env.fake.send_message(channel, env.alice, content, attachments=files)
    ix = await env.fake.invoke_message_command(env.guild_a, env.carol, CONTINUE, message)
    await answered(ix)
    assert private(ix) and expected in reply(ix)


async def test_the_message_command_shares_the_writing_cooldown(env):

    env.bot.settings = env.settings.replace(generate_cooldown=60)
    channel = env.guild_a.default_channel
    message = await env.fake.send_message(channel, env.alice, "The cat")
    await continued(env, message)
    ix = await env.fake.invoke(
        env.guild_a, env.carol, "generate", {"seed": "The", "temperature": 0.5}
    )
    await answered(ix)
    assert private(ix) and "Slow down" in reply(ix)


# -- /model default ---------------------------------------------------------------------------


async def set_default(env, name: str, user=None):
    ix = await env.fake.invoke(env.guild_a, user or env.admin, "model default", {"name": name})
    return await answered(ix)


async def test_the_server_default_is_used_and_marked(env, tiny_model):
    await env.add_guild_model(env.guild_a, env.alice, "mine", tiny_model.artifact)
    ix = await set_default(env, "mine")
    assert private(ix) and "`mine` is now this server's default model" in reply(ix)
    gen = await env.fake.invoke(
        env.guild_a, env.carol, "generate", {"seed": "The", "temperature": 0}
    )
    await gen.wait_for(finished, 30, "the reply")
    assert "mine · temperature 0 ·" in gen.original.content
    message = await env.fake.send_message(env.guild_a.default_channel, env.alice, "The cat")
    menu = await continued(env, message)
    assert "mine · temperature 0.7 ·" in menu.original.content
    listed = await answered(await env.fake.invoke(env.guild_a, env.carol, "model list"))
    fields = {f["name"]: f["value"] for f in listed.embeds[0]["fields"]}
    assert fields["mine"].startswith("⭐ default ·") and "⭐" not in fields["basic"]
    # another server keeps the bot's default
    other = await env.fake.invoke(
        env.guild_b, env.bob, "generate", {"seed": "The", "temperature": 0}
    )
    await other.wait_for(finished, 30, "the reply")
    assert "basic · temperature 0 ·" in other.original.content


async def test_choosing_the_bots_default_follows_the_bot(env, tiny_model):
    """Choosing the bot's own default unsets the server's choice rather than pinning a name:
    the server then follows LSTM_BOT_DEFAULT_MODEL, even when the operator changes it."""
    await env.add_guild_model(env.guild_a, env.alice, "mine", tiny_model.artifact)
    await set_default(env, "mine")
    ix = await set_default(env, env.settings.default_model)
    assert private(ix) and f"`{env.settings.default_model}` is now" in reply(ix)
    assert await env.bot.guild_settings.chosen_model(env.guild_a.id) is None


async def test_only_manage_server_may_choose_the_default(env, tiny_model):
    await env.add_guild_model(env.guild_a, env.alice, "mine", tiny_model.artifact)
    ix = await set_default(env, "mine", env.alice)
    assert private(ix) and "You need the Manage Server permission" in reply(ix)
    assert await env.bot.guild_settings.chosen_model(env.guild_a.id) is None


async def test_an_unknown_model_cant_be_the_default(env):
    ix = await set_default(env, "nope")
    assert private(ix) and "There is no model called `nope` here" in reply(ix)


async def test_deleting_the_default_falls_back_and_says_so(env, tiny_model):
    await env.add_guild_model(env.guild_a, env.alice, "mine", tiny_model.artifact)
    await set_default(env, "mine")
    ix = await answered(
        await env.fake.invoke(env.guild_a, env.alice, "model delete", {"name": "mine"})
    )
    (confirm,) = [c for row in ix.components for c in row["components"] if c["label"] == "Delete"]
    click = await env.fake.click(ix, env.alice, confirm["custom_id"])
    await ix.wait_for(lambda i: "Deleted `mine`" in (i.content or ""), 15, "the deletion")
    assert "It was this server's default model" in ix.content and "`basic`" in ix.content
    await click.wait_acked(timeout=5)
    assert await env.bot.guild_settings.chosen_model(env.guild_a.id) is None
    gen = await env.fake.invoke(
        env.guild_a, env.carol, "generate", {"seed": "The", "temperature": 0}
    )
    await gen.wait_for(finished, 30, "the reply")
    assert "basic · temperature 0 ·" in gen.original.content


async def test_the_message_command_acknowledges_before_database_work(env, monkeypatch):
    message = await env.fake.send_message(env.guild_a.default_channel, env.alice, "The cat")
    released = hold_database(monkeypatch)
    ix = await env.fake.invoke_message_command(env.guild_a, env.carol, CONTINUE, message)
    try:
        await ix.wait_acked(timeout=10)
    finally:
        released.set()
    await ix.wait_for(finished, 30, "the reply")


async def test_on_a_generated_reply_it_continues_the_text_not_the_markdown(env):
    ix = await env.fake.invoke(
        env.guild_a, env.alice, "generate", {"seed": "The cat", "temperature": 0.5, "length": 60}
    )
    await ix.wait_for(finished, 30, "the reply")
    seed, text = shown(ix.original)
    menu = await continued(env, ix.original)
    new_seed, _ = shown(menu.original)
    assert new_seed == seed + text  # no bold markers, no footer line


async def test_on_a_long_generated_reply_it_reads_the_attached_text(env):

    env.bot.settings = env.settings.replace(max_length=5000)
    ix = await env.fake.invoke(
        env.guild_a, env.alice, "generate", {"seed": "The cat", "temperature": 0.5, "length": 2500}
    )
    await ix.wait_for(finished, 60, "the reply")
    ((_, data),) = ix.files
    menu = await continued(env, ix.original)
    new_seed, _ = shown(menu.original)
    assert data.decode().endswith(new_seed) and len(new_seed) > 400


# -- the bot's own replies, buttons or none (issue 18, finding 2) -------------------------------


def no_markup(seed: str) -> bool:
    return "-#" not in seed and "**" not in seed and "▌" not in seed and "writing" not in seed


async def test_on_an_earlier_part_of_a_continue_chain_it_reads_the_text(env):
    """The first message of a Continue chain lost its buttons: its text still is the seed."""
    from .test_buttons import pressed

    ix = await env.fake.invoke(
        env.guild_a, env.alice, "generate", {"seed": "The cat", "temperature": 0.5, "length": 900}
    )
    await ix.wait_for(finished, 30, "the reply")
    seed, text = shown(ix.original)
    click = await pressed(env, ix.original, "Continue")
    await click.wait_for(lambda i: i.followups and i.followups[0].components, 30)
    await env.fake.wait_until(lambda: ix.original.components == [], 30)
    menu = await continued(env, ix.original)
    new_seed, _ = shown(menu.original)
    assert no_markup(new_seed) and (seed + text).endswith(new_seed) and len(new_seed) > 400


async def test_on_a_reply_whose_model_was_deleted_it_reads_the_text(env, tiny_model):
    from .test_buttons import answer, pressed

    record = await env.add_guild_model(env.guild_a, env.alice, "going", tiny_model.artifact)
    ix = await env.fake.invoke(
        env.guild_a,
        env.alice,
        "generate",
        {"seed": "The cat", "temperature": 0.5, "length": 60, "model": "going"},
    )
    await ix.wait_for(finished, 30, "the reply")
    seed, text = shown(ix.original)
    await env.bot.get_cog("Models").deletion.delete(record)
    await answer(await pressed(env, ix.original, "Continue"))
    await env.fake.wait_until(lambda: ix.original.components == [], 30)
    menu = await continued(env, ix.original)
    new_seed, _ = shown(menu.original)
    assert new_seed == seed + text


async def test_on_a_long_reply_without_buttons_it_reads_the_attached_text(env):

    env.bot.settings = env.settings.replace(max_length=5000)
    ix = await env.fake.invoke(
        env.guild_a, env.alice, "generate", {"seed": "The cat", "temperature": 0.5, "length": 2500}
    )
    await ix.wait_for(finished, 60, "the reply")
    ((_, data),) = ix.files
    ix.original.components = []  # (as after its model was deleted)
    menu = await continued(env, ix.original)
    new_seed, _ = shown(menu.original)
    assert no_markup(new_seed) and data.decode().endswith(new_seed) and len(new_seed) > 400


async def test_on_a_reply_still_being_written_it_says_busy(env, monkeypatch):
    import threading

    from model_store.sampling import BatchSampler

    go, steps = threading.Event(), []
    step = BatchSampler.step

    def slow_step(self):  # 20 characters, then slowly until go
        steps.append(1)
        if len(steps) > 20:
            go.wait(0.1)
        return step(self)

    monkeypatch.setattr(BatchSampler, "step", slow_step)
    ix = await env.fake.invoke(
        env.guild_a, env.alice, "generate", {"seed": "The cat", "temperature": 0.5, "length": 300}
    )
    try:
        await ix.wait_for(lambda i: "writing…" in (i.content or ""), 30, "a streamed edit")
        menu = await env.fake.invoke_message_command(env.guild_a, env.carol, CONTINUE, ix.original)
        await answered(menu)
        assert private(menu) and "still being written" in reply(menu)
    finally:
        go.set()
    await ix.wait_for(finished, 30, "the reply")

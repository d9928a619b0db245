"""End-to-end tests: a tiny discord.py bot (defined here) against the fake Discord."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from fake_discord import FakeDiscord, FakeGuild, FakeUser, render_interaction, render_message
from fake_discord.testing import running_bot

MODELS = [f"model-{i:02d}" for i in range(40)]


class PressView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=60)

    @discord.ui.button(label="Press", custom_id="press", style=discord.ButtonStyle.primary)
    async def press(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(
            content=f"pressed by {interaction.user.name}", view=None
        )


class Feedback(discord.ui.Modal, title="Feedback"):
    text = discord.ui.TextInput(label="Your feedback", custom_id="fb-text")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"thanks: {self.text.value}", ephemeral=True)


class ColourView(discord.ui.View):
    @discord.ui.select(
        custom_id="colour",
        options=[discord.SelectOption(label=c, value=c) for c in ("red", "green", "blue")],
    )
    async def colour(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        await interaction.response.defer()  # deferred update, then edit the message itself
        await interaction.message.edit(content=f"colour: {select.values[0]}")


class Turkish(app_commands.Translator):
    """Descriptions and choices in Turkish (here: marked "tr:"), names left alone."""

    async def translate(self, string, locale, context):
        kind = app_commands.TranslationContextLocation
        names = (kind.command_name, kind.group_name, kind.parameter_name)
        if locale is not discord.Locale.turkish or context.location in names:
            return None
        return f"tr: {string.message}"


def make_bot() -> commands.Bot:
    bot = commands.Bot(command_prefix="!", intents=discord.Intents.default())
    tree = bot.tree

    @tree.context_menu(name="Quote this")
    async def quote(interaction: discord.Interaction, message: discord.Message) -> None:
        await interaction.response.send_message(
            f"{message.author.name} said {message.content!r} ({interaction.locale.value})"
        )

    @tree.command(description="repeat text")
    async def echo(interaction: discord.Interaction, text: str, times: int = 1) -> None:
        await interaction.response.send_message(text * times)

    @tree.command(description="defer, edit in steps, follow up")
    async def slow(interaction: discord.Interaction, steps: int) -> None:
        await interaction.response.defer(thinking=True)
        for i in range(1, steps + 1):
            await interaction.edit_original_response(content=f"step {i}/{steps}")
        log = discord.File(io.BytesIO(b"log lines"), filename="log.txt")
        await interaction.edit_original_response(attachments=[log])
        await interaction.followup.send("all done")

    @tree.command(description="think in public, then try to answer privately")
    async def whisper(interaction: discord.Interaction, delete_first: bool) -> None:
        await interaction.response.defer(thinking=True)
        if delete_first:
            await interaction.delete_original_response()
        await interaction.followup.send("psst", ephemeral=True)

    @tree.command(description="only for you")
    async def secret(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("shh", ephemeral=True)

    @tree.command(description="pick a model")
    async def pick(interaction: discord.Interaction, model: str, many: bool = False) -> None:
        await interaction.response.send_message(f"picked {model}")

    @pick.autocomplete("model")
    async def pick_model(interaction: discord.Interaction, current: str) -> list:
        found = [m for m in MODELS if current in m]
        if not interaction.namespace.many:
            found = found[:25]
        return [app_commands.Choice(name=m, value=m) for m in found]

    @tree.command(description="a button")
    async def buttons(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("press it", view=PressView())

    @tree.command(description="read a file")
    async def readfile(interaction: discord.Interaction, file: discord.Attachment) -> None:
        data = await file.read()
        upper = discord.File(io.BytesIO(data.upper()), filename="upper.txt")
        await interaction.response.send_message(f"{file.filename}: {data.decode()}", file=upper)

    @tree.command(description="post a report file in the channel")
    async def post(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("posting", ephemeral=True)
        report = discord.File(io.BytesIO(b"report body"), filename="report.txt")
        await interaction.channel.send("here is the report", file=report)

    @tree.command(description="greet someone")
    async def greet(interaction: discord.Interaction, who: discord.User, safe: bool) -> None:
        mentions = discord.AllowedMentions.none() if safe else discord.utils.MISSING
        await interaction.response.send_message(f"hi {who.mention}", allowed_mentions=mentions)

    @tree.command(description="too long")
    async def long(interaction: discord.Interaction) -> None:
        try:
            await interaction.response.send_message("x" * 2001)
        except discord.HTTPException as exc:
            await interaction.response.send_message(f"failed with {exc.code}")

    @tree.command(description="answers too late")
    async def sleepy(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.5)
        try:
            await interaction.response.send_message("late")
        except discord.NotFound:
            pass

    @tree.command(description="answers twice")
    async def twice(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("one")
        try:
            await interaction.followup.send("two")  # fine
            await interaction.response.send_message("again")  # library refuses
        except discord.InteractionResponded:
            await interaction.followup.send("refused")

    @tree.command(description="open a modal")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(Feedback())

    @tree.command(description="choose a colour")
    async def colour(interaction: discord.Interaction) -> None:
        await interaction.channel.send("pick one", view=ColourView())
        await interaction.response.send_message("sent", ephemeral=True)

    @bot.listen()
    async def on_message(message: discord.Message) -> None:
        if message.author != bot.user and "ping" in message.content:
            await message.reply("pong", mention_author=False)

    model = app_commands.Group(name="model", description="models")
    admin = app_commands.Group(name="admin", description="admin", parent=model)

    @model.command(name="list", description="list models")
    async def model_list(interaction: discord.Interaction, prefix: str = "") -> None:
        names = [m for m in MODELS if m.startswith(prefix)][:3]
        await interaction.response.send_message(", ".join(names))

    @admin.command(name="purge", description="purge a model")
    async def admin_purge(interaction: discord.Interaction, name: str) -> None:
        await interaction.response.send_message(f"purged {name}", ephemeral=True)

    tree.add_command(model)

    @tree.command(description="a size")
    @app_commands.choices(size=[app_commands.Choice(name="small", value=1)])
    async def size(interaction: discord.Interaction, size: app_commands.Choice[int]) -> None:
        await interaction.response.send_message(size.name)

    async def setup_hook() -> None:
        await tree.set_translator(Turkish())
        await tree.sync()

    bot.setup_hook = setup_hook
    return bot


@dataclass
class Env:
    fake: FakeDiscord
    guild: FakeGuild
    alice: FakeUser
    bot: commands.Bot


@pytest.fixture
async def env(request: pytest.FixtureRequest):
    compression = getattr(request, "param", "zlib-stream")
    async with FakeDiscord(ack_timeout=2.0, quiet_period=0.05) as fake:
        guild = fake.add_guild("Guild A")
        alice = fake.add_user("alice")
        fake.add_member(guild, alice)
        bot = make_bot()
        async with running_bot(fake, bot, compression=compression):
            yield Env(fake, guild, alice, bot)
        fake.assert_no_violations()


async def test_connects_over_zlib_stream_and_syncs(env: Env) -> None:
    fake, bot = env.fake, env.bot
    assert [s.compression for s in fake._sessions] == ["zlib-stream"]
    guild = bot.get_guild(env.guild.id)
    assert guild is not None and guild.name == "Guild A"
    assert guild.me is not None and guild.member_count == 3  # no members intent: only the bot
    assert [c.name for c in guild.text_channels] == ["general"]
    assert bot.user is not None and bot.user.id == fake.application_id
    names = {c["name"] for c in fake.commands[None]}
    assert {"echo", "slow", "model"} <= names
    await bot.tree.sync(guild=discord.Object(env.guild.id))
    assert fake.commands[env.guild.id] == []
    assert fake.unknown_routes == []


async def test_immediate_response_with_options(env: Env) -> None:
    ix = await env.fake.invoke(env.guild, env.alice, "echo", {"text": "ab", "times": 3})
    await ix.wait_done(timeout=5)
    assert ix.content == "ababab"
    assert not ix.deferred and not ix.ephemeral
    assert ix.acknowledged_after is not None and not ix.ack_violation
    assert env.fake.channel_messages(env.guild.default_channel)[-1].content == "ababab"


async def test_defer_edits_then_followup(env: Env) -> None:
    ix = await env.fake.invoke(env.guild, env.alice, "slow", {"steps": 3})
    await ix.wait_followups(1, timeout=5)
    await ix.wait_done(timeout=5)
    assert ix.deferred
    assert [content for _, content in ix.edits] == ["step 1/3", "step 2/3", "step 3/3"] + [
        "step 3/3"
    ]
    assert ix.files == [("log.txt", b"log lines")]
    times = [t for t, _ in ix.edits]
    assert times == sorted(times)
    assert ix.content == "step 3/3"
    assert [m.content for m in ix.followups] == ["all done"]
    assert not ix.original.loading


async def test_ephemeral_flag(env: Env) -> None:
    ix = await env.fake.invoke(env.guild, env.alice, "secret")
    await ix.wait_done()
    assert ix.ephemeral and ix.content == "shh"
    assert env.fake.channel_messages(env.guild.default_channel) == []


async def test_subcommand_and_group(env: Env) -> None:
    ix = await env.fake.invoke(env.guild, env.alice, "model list", {"prefix": "model-1"})
    await ix.wait_done()
    assert ix.content == "model-10, model-11, model-12"
    ix = await env.fake.invoke(
        env.guild, env.alice, "model", {"name": "m1"}, group="admin", subcommand="purge"
    )
    await ix.wait_done()
    assert ix.content == "purged m1" and ix.ephemeral
    with pytest.raises(ValueError, match="needs a subcommand"):
        await env.fake.invoke(env.guild, env.alice, "model")
    with pytest.raises(ValueError, match="no option"):
        await env.fake.invoke(env.guild, env.alice, "model list", {"nope": 1})


async def test_autocomplete(env: Env) -> None:
    choices = await env.fake.autocomplete(env.guild, env.alice, "pick", focused="model", value="-3")
    assert [c["value"] for c in choices] == [f"model-3{i}" for i in range(10)]
    ix = env.fake.interaction("pick")
    assert ix.acknowledged_after is not None


async def test_more_than_25_choices_flagged(env: Env) -> None:
    choices = await env.fake.autocomplete(
        env.guild, env.alice, "pick", focused="model", value="", options={"many": True}
    )
    assert choices == []
    assert any("invalid_autocomplete" in v and "25" in v for v in env.fake.take_violations())


async def test_button_click_updates_message(env: Env) -> None:
    ix = await env.fake.invoke(env.guild, env.alice, "buttons")
    await ix.wait_done()
    assert ix.original.custom_ids() == ["press"]
    click = await env.fake.click(ix, env.alice, "press")
    await click.wait_done()
    assert click.response_type == 7
    assert ix.content == "pressed by alice"
    assert ix.components == []
    assert [c for _, c in ix.edits] == ["pressed by alice"]


async def test_attachment_option_is_read_by_bot(env: Env) -> None:
    att = env.fake.add_attachment("notes.txt", b"hello file", "text/plain")
    ix = await env.fake.invoke(env.guild, env.alice, "readfile", {"file": att})
    await ix.wait_done()
    assert ix.content == "notes.txt: hello file"
    assert ix.files == [("upper.txt", b"HELLO FILE")]


@pytest.mark.parametrize(
    "name, stored",
    [
        ("my notes #1?.txt", "my_notes_1.txt"),
        ("Größe & café.txt", "Groe__cafe.txt"),
        ("日本語.txt", "file.txt"),
        ("a?b=c&d#e", "abcde"),
    ],
)
async def test_attachment_names_as_people_make_them(env: Env, name: str, stored: str) -> None:
    """Discord stores a cleansed file name (the original goes in ``title``); its URL works."""
    att = env.fake.add_attachment(name, b"hello file", "text/plain")
    assert att.filename == stored and att.title == name
    ix = await env.fake.invoke(env.guild, env.alice, "readfile", {"file": att})
    await ix.wait_done()
    assert ix.content == f"{stored}: hello file"


async def test_first_followup_after_a_deferral_replaces_the_loading_message(env: Env) -> None:
    """As on Discord: it keeps the deferral's visibility, whatever its ephemeral flag."""
    ix = await env.fake.invoke(env.guild, env.alice, "whisper", {"delete_first": False})
    await ix.wait_done()
    assert ix.followups == [] and ix.content == "psst" and not ix.ephemeral
    private = await env.fake.invoke(env.guild, env.alice, "whisper", {"delete_first": True})
    await private.wait_for(lambda i: i.followups)
    assert private.original.deleted and [m.ephemeral for m in private.followups] == [True]


async def test_channel_message_with_file(env: Env) -> None:
    channel = env.guild.default_channel
    ix = await env.fake.invoke(env.guild, env.alice, "post")
    msg = await env.fake.wait_for_message(channel, lambda m: m.files != [])
    assert msg.content == "here is the report"
    assert msg.files == [("report.txt", b"report body")]
    await ix.wait_done()
    assert "report.txt (11 B)" in render_message(msg)


async def test_ping_flagged_without_allowed_mentions(env: Env) -> None:
    ix = await env.fake.invoke(env.guild, env.alice, "greet", {"who": env.alice, "safe": False})
    await ix.wait_done()
    assert ix.content == f"hi <@{env.alice.id}>"
    violations = env.fake.take_violations()
    assert len(violations) == 1 and violations[0].startswith("would_ping")


async def test_no_ping_with_allowed_mentions_none(env: Env) -> None:
    ix = await env.fake.invoke(env.guild, env.alice, "greet", {"who": env.alice, "safe": True})
    await ix.wait_done()
    assert ix.allowed_mentions == {"parse": []}
    assert env.fake.violations == []


async def test_content_over_2000_rejected(env: Env) -> None:
    ix = await env.fake.invoke(env.guild, env.alice, "long")
    await ix.wait_done()
    assert ix.content == "failed with 50035"
    violations = env.fake.take_violations()
    assert len(violations) == 1 and "2000" in violations[0]


async def test_no_ack_in_time_flagged(env: Env) -> None:
    env.fake.ack_timeout = 0.3
    ix = await env.fake.invoke(env.guild, env.alice, "sleepy")
    await ix.wait_for(lambda i: bool(i.rejected), timeout=3)
    assert not ix.acked
    violations = env.fake.take_violations()
    assert len(violations) == 1 and violations[0].startswith("ack_timeout")


async def test_double_ack_refused_and_followups(env: Env) -> None:
    ix = await env.fake.invoke(env.guild, env.alice, "twice")
    await ix.wait_followups(2)
    assert [m.content for m in ix.followups] == ["two", "refused"]
    assert "> /twice by alice" in render_interaction(ix)
    # discord.py refuses a second response itself; a raw one gets Discord's 400 40060.
    url = f"{env.fake.api_url}/interactions/{ix.id}/{ix.token}/callback"
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"type": 4, "data": {"content": "3"}}) as resp:
            assert resp.status == 400 and (await resp.json())["code"] == 40060
    assert [v.split(":")[0] for v in env.fake.take_violations()] == ["double_ack"]


async def test_expired_token_flagged(env: Env) -> None:
    ix = await env.fake.invoke(env.guild, env.alice, "echo", {"text": "a"})
    await ix.wait_done()
    env.fake.advance_clock(16 * 60)
    channel = env.bot.get_channel(env.guild.default_channel.id)
    interaction_webhook = discord.Webhook.partial(env.fake.application_id, ix.token, client=env.bot)
    with pytest.raises(discord.HTTPException):
        await interaction_webhook.send("too late", wait=True)
    assert channel is not None
    assert [v.split(":")[0] for v in env.fake.take_violations()] == ["token_expired"]


@pytest.mark.parametrize("env", [None], indirect=True)
async def test_connects_with_discord_py_default_compression(env: Env) -> None:
    expected = discord.utils._ActiveDecompressionContext.COMPRESSION_TYPE  # zstd if available
    assert [s.compression for s in env.fake._sessions] == [expected]
    ix = await env.fake.invoke(env.guild, env.alice, "echo", {"text": "z"})
    await ix.wait_done()
    assert ix.content == "z"


async def test_modal_submit(env: Env) -> None:
    ix = await env.fake.invoke(env.guild, env.alice, "feedback")
    await ix.wait_done()
    assert ix.response_type == 9 and ix.modal["title"] == "Feedback"
    submitted = await env.fake.submit_modal(ix, env.alice, {"fb-text": "great bot"})
    await submitted.wait_done()
    assert submitted.content == "thanks: great bot" and submitted.ephemeral


async def test_select_then_deferred_update_and_channel_edit(env: Env) -> None:
    channel = env.guild.default_channel
    ix = await env.fake.invoke(env.guild, env.alice, "colour")
    msg = await env.fake.wait_for_message(channel, lambda m: "colour" in m.custom_ids())
    pick = await env.fake.click(msg, env.alice, "colour", values=["green"])
    await pick.wait_done()
    assert pick.deferred and pick.response_type == 6
    assert msg.content == "colour: green" and len(msg.edits) == 1
    await ix.wait_done()


async def test_user_message_mentioning_bot_gets_reply(env: Env) -> None:
    channel = env.guild.default_channel
    await env.fake.send_message(channel, env.alice, f"<@{env.fake.bot_user.id}> ping")
    reply = await env.fake.wait_for_message(channel, lambda m: m.author.bot)
    assert reply.content == "pong" and reply.reference is not None
    assert reply.allowed_mentions is not None
    assert reply.allowed_mentions["replied_user"] is False
    # Without the message-content intent, other users' plain messages arrive empty: the
    # bot can't see the "ping" in the first message below. Events arrive in order, so once it
    # answered the second one, it has seen (and ignored) the first.
    await env.fake.send_message(channel, env.alice, "ping")
    second = await env.fake.send_message(channel, env.alice, f"<@{env.fake.bot_user.id}> ping")
    await env.fake.wait_for_message(
        channel, lambda m: str((m.reference or {}).get("message_id")) == str(second.id)
    )
    assert [m.content for m in env.fake.channel_messages(channel)].count("pong") == 2


async def test_gateway_drop_and_resume(env: Env) -> None:
    old_session = env.fake._sessions[0].session_id
    await env.fake.disconnect_bots()
    await env.fake.wait_until(lambda: env.fake.connected, timeout=10)
    assert env.fake._sessions[0].session_id == old_session  # resumed, not re-identified
    ix = await env.fake.invoke(env.guild, env.alice, "echo", {"text": "back"})
    await ix.wait_done()
    assert ix.content == "back"


async def test_message_command_carries_the_message_and_the_users_locale(env: Env) -> None:
    """Right-click a message > Apps: type 3 data with ``target_id`` and the message in
    ``resolved.messages``, its content included although the bot has no content intent."""
    channel = env.guild.default_channel
    env.alice.locale = "tr"
    said = await env.fake.send_message(channel, env.alice, "hello there")
    ix = await env.fake.invoke_message_command(env.guild, env.alice, "Quote this", said)
    await ix.wait_done()
    assert ix.content == "alice said 'hello there' (tr)"
    data = ix.payload["data"]
    assert (data["type"], data["target_id"]) == (3, str(said.id))
    assert ix.payload["locale"] == "tr" and ix.original.type == 23
    assert "alice used 'Quote this' (Apps menu)" in render_interaction(ix)
    with pytest.raises(ValueError, match="no message command"):
        await env.fake.invoke_message_command(env.guild, env.alice, "Nope", said)


async def test_localizations_are_synced(env: Env) -> None:
    echo = env.fake.find_command("echo")
    assert echo["description_localizations"] == {"tr": "tr: repeat text"}
    assert "name_localizations" not in echo or not echo["name_localizations"]
    (size,) = env.fake.find_command("size")["options"]
    assert size["choices"][0]["name_localizations"] == {"tr": "tr: small"}
    quote = env.fake.find_command("Quote this", type=3)
    assert quote is not None and env.fake.find_command("Quote this") is None


# -- reconnects: RESUME replays what the bot missed ---------------------------------------------
class _Client(discord.Client):
    async def before_identify_hook(self, shard_id, *, initial=False) -> None:
        pass  # discord.py waits 5 s before identifying again; the fake has no such limit


async def _reconnecting_bot(fake: FakeDiscord, how: str) -> tuple[discord.Client, list[str]]:
    seen: list[str] = []
    client = _Client(intents=discord.Intents.default())

    @client.event
    async def on_interaction(interaction: discord.Interaction) -> None:
        seen.append(interaction.data["name"])
        await interaction.response.send_message("ok")

    return client, seen


@pytest.mark.parametrize("how", ["drop", "reconnect"])
async def test_resume_replays_interactions_sent_while_disconnected(how: str) -> None:
    async with FakeDiscord(ack_timeout=10) as fake:
        guild, alice = fake.add_guild("G"), fake.add_user("alice")
        fake.add_member(guild, alice)
        client, seen = await _reconnecting_bot(fake, how)
        async with running_bot(fake, client):
            (session,) = fake._sessions
            if how == "drop":
                await fake.disconnect_bots(4000)
            else:
                await fake.request_reconnect()
            await fake.wait_until(lambda: not fake.connected, 5)
            missed = [await fake.invoke(guild, alice, f"cmd{i}") for i in range(3)]
            await fake.wait_connected(10)
            for ix in missed:
                await ix.wait_done(timeout=10)
            (resumed,) = fake._sessions
            assert resumed.session_id == session.session_id and resumed.replayed >= 3
        assert seen == ["cmd0", "cmd1", "cmd2"]
        fake.assert_no_violations()


async def test_invalid_session_makes_the_bot_identify_again() -> None:
    async with FakeDiscord() as fake:
        guild, alice = fake.add_guild("G"), fake.add_user("alice")
        fake.add_member(guild, alice)
        client, seen = await _reconnecting_bot(fake, "invalid")
        async with running_bot(fake, client):
            (session,) = fake._sessions
            await fake.invalidate_sessions()
            await fake.wait_until(
                lambda: fake.connected and fake._sessions[0].session_id != session.session_id, 15
            )
            ix = await fake.invoke(guild, alice, "after")
            await ix.wait_done(timeout=5)
        assert seen == ["after"]
        fake.assert_no_violations()

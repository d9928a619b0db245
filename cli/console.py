"""The offline console: the real bot against the in-repo fake Discord, driven from a prompt.

Type what you would type in Discord (``/generate seed:"The will to" temperature:0.5``,
``/model list``) and see what Discord would show, buttons included. ``click LABEL`` presses a
button of the last reply (the newest message with that button), ``say TEXT`` posts a message
in the channel as you, ``continue [MESSAGE_ID]`` runs the "Continue this text" message command
on a message (default: the channel's latest), ``locale [LOCALE]`` shows or switches your
Discord language (``tr``, ``pt-BR``, ``en-US``...), ``wait [SECONDS]`` waits until no training
job is queued or running (then shows what the bot posted in the channel meanwhile), ``help``
lists the commands, ``quit`` (or end of input) leaves.

When standard input is not a terminal, commands are read one a line and the console exits at
the end of the input: with status 1 if any command failed (a line the console could not run,
an error the bot replied, or a Discord rule the bot broke), else 0.

``/train`` needs a worker: when the train extra is installed the console runs one in a child
process (``--no-worker`` turns that off); otherwise the job's reply says how to start one.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import discord

from bot.client import LSTMBot
from bot.settings import Settings
from fake_discord import FakeDiscord
from fake_discord.render import render_components, render_interaction, render_message
from fake_discord.rules import LOCALES
from fake_discord.testing import running_bot
from jobs.config import QUEUE_URL_ENV
from model_store.backend import training_installed
from model_store.store import BUILTIN_DIR
from worker import process

OPTION_TYPES = {3: str, 4: int, 5: bool, 10: float}
WAIT_SECONDS = 600.0
NO_TRAIN_EXTRA = (
    "No training worker runs here: the train extra is not installed. Install it "
    "(`pip install -e '.[train]'`), then start one with `lstm-bot worker` on this data "
    "directory, or restart the console."
)
NO_WORKER = "The console runs no worker (--no-worker): start one with `lstm-bot worker`."
CONTINUE_THIS_TEXT = "Continue this text"  # the message command (cogs/writing/generate.py)
ATTACHMENT = 11
_UNESCAPE = re.compile(r"\\([\\*_~`|>#\-\[\]()<@:.!])")


class ConsoleError(Exception):
    """A line the console could not run (printed as ``error: ...``)."""


class CommandFailed(Exception):
    """The bot answered a command with an error (already shown as the bot's reply)."""


@dataclass
class ParsedCommand:
    path: str  # "generate", "model list"
    options: dict[str, Any]


def parse(line: str) -> ParsedCommand:
    try:
        tokens = shlex.split(line)
    except ValueError as exc:
        raise ConsoleError(f"can't read that line: {exc}") from None
    if not tokens or not tokens[0].startswith("/"):
        raise ConsoleError("commands start with '/', e.g. /model list (type help)")
    path = [tokens[0][1:]]
    options: dict[str, Any] = {}
    for token in tokens[1:]:
        if ":" in token:
            key, value = token.split(":", 1)
            options[key] = value
        elif options:
            raise ConsoleError(f"'{token}' is not an option (use name:value)")
        else:
            path.append(token)
    return ParsedCommand(" ".join(path), options)


def plain(content: str) -> str:
    """Discord markdown as a terminal shows it: bold markers and escapes removed."""
    content = re.sub(r"(?<!\\)\*\*", "", content)
    return _UNESCAPE.sub(r"\1", content)


def _body(content: str) -> str:
    return content.split("\n-# ", 1)[0].removesuffix(" ▌")


def _is_generated(msg: Any) -> bool:
    """A reply of /generate or the message command: bold seed, text, a footer line."""
    return (msg.content or "").startswith("**") and "\n-# " in (msg.content or "")


class Console:
    def __init__(self, fake: FakeDiscord, out: TextIO, bot: LSTMBot | None = None):
        self.fake = fake
        self.out = out
        self.bot = bot
        self.guild = fake.add_guild("Console")
        self.user = fake.add_user("you")
        fake.add_member(self.guild, self.user, admin=True)
        self.last = None
        self.failed: set[int] = set()  # interactions the bot answered with an error

    def bot_error(self, interaction: discord.Interaction, message: str) -> None:
        """The bot's error handler reported ``message`` for ``interaction``."""
        self.failed.add(interaction.id)

    def write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()

    def _coerce(self, cmd: ParsedCommand) -> dict[str, Any]:
        command = self.fake.find_command(cmd.path.split()[0], self.guild)
        if command is None:
            raise ConsoleError(f"unknown command /{cmd.path} (type help)")
        specs = command.get("options", [])
        for part in cmd.path.split()[1:]:
            match = [o for o in specs if o["name"] == part]
            if not match:
                raise ConsoleError(f"unknown command /{cmd.path} (type help)")
            specs = match[0].get("options", [])
        types = {o["name"]: o["type"] for o in specs}
        options: dict[str, Any] = {}
        for key, raw in cmd.options.items():
            kind = types.get(key)
            if kind is None:
                known = ", ".join(types) or "none"
                raise ConsoleError(f"/{cmd.path} has no option '{key}' (options: {known})")
            if kind == ATTACHMENT:
                path = Path(raw).expanduser()
                if not path.is_file():
                    raise ConsoleError(f"no such file: {path}")
                options[key] = self.fake.add_attachment(path.name, path.read_bytes())
                continue
            convert = OPTION_TYPES.get(kind, str)
            try:
                options[key] = (
                    (raw.lower() in {"1", "true", "yes"}) if convert is bool else (convert(raw))
                )
            except ValueError:
                raise ConsoleError(f"{key} must be a {convert.__name__}") from None
        return options

    async def run_line(self, line: str) -> None:
        line = line.strip()
        if not line or line.startswith("#"):
            return
        if line in {"help", "/help"}:
            self.write(self.help_text())
            return
        word, _, rest = line.partition(" ")
        console_commands = {
            "click": self._click,
            "say": self._say,
            "continue": self._continue,
            "locale": self._locale,
        }
        if word in console_commands:
            await console_commands[word](rest.strip())
            return
        if line == "wait" or line.startswith("wait "):
            await self._wait(line[4:].strip())
            return
        cmd = parse(line)
        options = self._coerce(cmd)
        try:
            ix = await self.fake.invoke(self.guild, self.user, cmd.path, options)
        except ValueError as exc:
            raise ConsoleError(str(exc)) from None
        await self._show(ix)
        if ix.id in self.failed:
            raise CommandFailed(f"/{cmd.path} failed")

    async def _show(self, ix: Any) -> None:
        shown = ""
        quiet_since = None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 600
        while loop.time() < deadline:
            if ix.ack_violation and not ix.acked:
                raise ConsoleError(f"the bot did not answer /{ix.name} in time")
            content = ix.content or ""
            streaming = ix.deferred and not ix.embeds and not ix.ephemeral
            if streaming and content:
                body = plain(_body(content))
                if body.startswith(shown):
                    self.write(body[len(shown) :])
                    shown = body
            if ix.done:
                quiet_since = quiet_since or loop.time()
                if loop.time() - quiet_since > 0.3 and "writing…" not in content:
                    break
            else:
                quiet_since = None
            await asyncio.sleep(0.05)
        if shown:
            self.write("\n")
            self._write_tail(ix.original)
            for msg in ix.followups:
                self.write(plain(msg.content) + "\n")
        else:
            self.write(self.render(ix))
        self.last = ix

    def _write_tail(self, msg: Any) -> None:
        """What follows a generated reply's text: its footer, attachments and buttons."""
        footer = (msg.content or "").split("\n-# ", 1)
        if len(footer) > 1:
            self.write(f"  ({plain(footer[1])})\n")
        for name, data in msg.files:
            self.write(f"  [attachment {name}, {len(data):,} bytes]\n")
        for line in render_components(msg.components, show_ids=False):
            self.write(f"  {line}\n")

    def _write_reply(self, msg: Any, before: str = "") -> None:
        """A generated reply that is already written (``before``: the part already shown)."""
        body = plain(_body(msg.content or ""))
        if before and body.startswith(before) and len(body) > len(before):
            body = "…" + body[len(before) :]
        self.write(body + "\n")
        self._write_tail(msg)

    @staticmethod
    def render(ix: Any) -> str:
        lines = plain(render_interaction(ix, show_deleted=False)).splitlines()
        if lines and lines[0].startswith("> /"):
            lines = lines[1:]  # the command line itself, already shown
        return "\n".join(lines) + "\n"

    async def _click(self, label: str) -> None:
        """Press the button ``label`` (any case) of the last reply's newest message with it."""
        if not label:
            raise ConsoleError("click takes a button's label, e.g. click Continue")
        if self.last is None:
            raise ConsoleError("no message with buttons yet")
        for msg in reversed(self.last.messages):
            for row in msg.components:
                for comp in row.get("components", []):
                    if comp.get("label", "").lower() == label.lower():
                        await self._press(msg, comp["custom_id"], label)
                        return
        raise ConsoleError(f"no button '{label}' on the last message")

    async def _press(self, msg: Any, custom_id: str, label: str) -> None:
        before = plain(_body(msg.content or ""))
        ix = await self.fake.click(msg, self.user, custom_id)
        await self._settle(ix, f"'{label}'")
        new = [m for m in ix.followups if not m.deleted]
        if _is_generated(msg):  # Continue, Regenerate: the text goes on here or below
            errors = [m for m in new if m.ephemeral]  # told privately
            for m in errors:
                self.write(plain(render_message(m, show_ids=False)) + "\n")
            written = [m for m in new if not m.ephemeral]
            for m in written:
                self._write_reply(m)
            if written:
                self.last = ix  # its newest message's buttons are the ones to press next
            elif not errors:
                self._write_reply(msg, before)
        else:  # a confirmation, a pager: the reply as it is now
            self.write(self.render(self.last))
        if ix.id in self.failed:
            raise CommandFailed(f"'{label}' failed")

    async def _settle(self, ix: Any, what: str) -> None:
        """Wait until the bot is done with ``ix`` and nothing of it is still being written."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_SECONDS
        quiet_since = None
        while loop.time() < deadline:
            if ix.ack_violation and not ix.acked:
                raise ConsoleError(f"the bot did not answer {what} in time")
            writing = any("writing…" in (m.content or "") for m in ix.messages)
            if ix.done and not writing:
                quiet_since = quiet_since or loop.time()
                if loop.time() - quiet_since > 0.3:
                    return
            else:
                quiet_since = None
            await asyncio.sleep(0.05)
        raise ConsoleError(f"the bot did not finish {what}")

    async def _say(self, text: str) -> None:
        """Post ``text`` in the channel as the console user."""
        if not text:
            raise ConsoleError("say TEXT posts a message, e.g. say Once upon a time")
        msg = await self.fake.send_message(self.guild.default_channel, self.user, text)
        self.write(f"  (you posted message {msg.id})\n")

    async def _continue(self, arg: str) -> None:
        """The "Continue this text" message command on a message of the channel."""
        messages = self.fake.channel_messages(self.guild.default_channel)
        if arg:
            if not arg.isdigit():
                raise ConsoleError("continue takes a message id, e.g. continue 1234")
            found = [m for m in messages if m.id == int(arg)]
            if not found:
                raise ConsoleError(f"no message {arg} in this channel")
            target = found[0]
        elif messages:
            target = messages[-1]
        else:
            raise ConsoleError("no message to continue yet: post one with say TEXT")
        ix = await self.fake.invoke_message_command(
            self.guild, self.user, CONTINUE_THIS_TEXT, target
        )
        await self._show(ix)
        if ix.id in self.failed:
            raise CommandFailed(f"'{CONTINUE_THIS_TEXT}' failed")

    async def _locale(self, arg: str) -> None:
        """Show or switch the console user's Discord language."""
        if arg:
            if arg not in LOCALES:
                known = ", ".join(sorted(LOCALES))
                raise ConsoleError(f"unknown locale '{arg}'; Discord's are: {known}")
            self.user.locale = arg
        self.write(f"  (your Discord language: {self.user.locale})\n")

    async def _wait(self, arg: str) -> None:
        """Wait until no job of this server is queued or running; show what was posted."""
        try:
            limit = float(arg) if arg else WAIT_SECONDS
        except ValueError:
            raise ConsoleError("wait takes a number of seconds, e.g. wait 600") from None
        assert self.bot is not None
        channel = self.guild.default_channel
        seen = {m.id for m in self.fake.channel_messages(channel)}
        deadline = time.monotonic() + limit
        while True:
            jobs = await self.bot.jobs.list_for_guild(self.guild.id, 100)
            busy = [
                j for j in jobs if not j.finished or (j.status == "succeeded" and not j.imported)
            ]
            if not busy:
                break
            if time.monotonic() > deadline:
                raise ConsoleError(
                    f"{len(busy)} training job(s) still unfinished after {limit:g} s"
                )
            await asyncio.sleep(0.5)
        await asyncio.sleep(1.0)  # let the bot post the results
        for msg in self.fake.channel_messages(channel):
            if msg.id not in seen:
                self.write(plain(render_message(msg)) + "\n")
        self.write("No training job is queued or running.\n")

    def help_text(self) -> str:
        lines = ["Commands (type them as in Discord):"]
        for command in self.fake.commands.get(None, []):
            if command.get("type", 1) != 1:  # a message command: see continue
                continue
            subs = [o for o in command.get("options", []) if o["type"] in (1, 2)]
            for sub in subs or [None]:
                name = command["name"] + (f" {sub['name']}" if sub else "")
                opts = (sub or command).get("options", [])
                args = " ".join(
                    f"{o['name']}:…" if o.get("required") else f"[{o['name']}:…]" for o in opts
                )
                desc = (sub or command).get("description", "")
                lines.append(f"  /{name} {args}\n      {desc}")
        lines.append("  click LABEL    press a button of the last reply")
        lines.append("  say TEXT       post a message in the channel as you")
        lines.append(
            f"  continue [MESSAGE_ID]  '{CONTINUE_THIS_TEXT}' on a message (default: the latest)"
        )
        lines.append("  locale [LOCALE]  show or switch your Discord language (tr, pt-BR, en-US)")
        lines.append(
            f"  wait [SECONDS] until no training job is queued or running ({WAIT_SECONDS:g})"
        )
        lines.append("  quit")
        return "\n".join(lines) + "\n"


def start_worker(settings: Settings) -> subprocess.Popen:
    """A worker child process on the console's queue; its log goes to the data directory."""
    env = dict(os.environ)
    env["LSTM_BOT_DATA_DIR"] = str(settings.data_dir)
    env["LSTM_BOT_POLL_SECONDS"] = str(min(settings.poll_seconds, 1.0))
    if settings.database:
        env["LSTM_BOT_DATABASE"] = str(settings.database)
    if settings.queue_conninfo:
        env[QUEUE_URL_ENV] = settings.queue_conninfo
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log = settings.data_dir / "console-worker.log"
    return process.start_worker(env, log, "--worker-id", "console", "--progress-seconds", "2")


def stop_worker(proc: subprocess.Popen) -> None:
    """SIGTERM (a job in training is released after its epoch), then kill if it lingers."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def run_console(
    settings: Settings,
    stdin: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
    builtin_root: Path = BUILTIN_DIR,
    *,
    worker: bool = True,
) -> int:
    interactive = stdin.isatty()
    failures = 0
    # One person at a keyboard: no /generate cooldown.
    bot = LSTMBot(
        settings.replace(generate_cooldown=0),
        sync_commands=True,
        builtin_root=builtin_root,
        claims=False,  # a fake Discord: the real bot's shards are not the console's
    )
    child = None
    if not worker:
        bot.worker_hint = NO_WORKER
    elif training_installed():
        child = start_worker(settings)
    else:
        bot.worker_hint = NO_TRAIN_EXTRA
    try:
        async with FakeDiscord() as fake:
            console = Console(fake, out, bot)
            bot.tree.error_listeners.append(console.bot_error)
            async with running_bot(fake, bot):
                if interactive:
                    console.write(
                        "lstm-bot offline console: the real bot, a fake Discord, no token needed.\n"
                        'Try: /generate seed:"The will to" temperature:0.5, then click Continue'
                        "   (help, quit)\n"
                    )
                while True:
                    if interactive:
                        console.write("> ")
                    line = await asyncio.to_thread(stdin.readline)
                    if not line or line.strip() in {"quit", "exit"}:
                        break
                    if not interactive and line.strip():
                        console.write(f"> {line.strip()}\n")
                    try:
                        await console.run_line(line)
                    except ConsoleError as exc:
                        failures += 1
                        console.write(f"error: {exc}\n")
                    except CommandFailed:
                        failures += 1
            if fake.violations:
                failures += len(fake.violations)
                console.write("Discord rule violations: " + "; ".join(fake.violations) + "\n")
            if failures and not interactive:
                console.write(f"{failures} command(s) failed\n")
    finally:
        if child is not None:
            await asyncio.to_thread(stop_worker, child)
    return 1 if failures and not interactive else 0

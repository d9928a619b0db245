"""Writing replies: the text streams into a message, then the final reply gets its buttons.

Every way to get text goes through :class:`ReplyWriter`: ``/generate``, the "Continue this
text" message command, and the Continue and Regenerate buttons under a reply
(:mod:`.reply_buttons`). A reply is edited about once a second while it is written (more
rarely the more replies are streaming at once) and always fits Discord's 2000 characters:
past them, a preview comes with the whole text as ``generated.txt``.

- **Continue** reads the reply back (:mod:`.reply_text`) and writes the next part after
  its last :data:`MAX_SEED` characters, with the same model and options. The reply grows
  when even the most escaped new part would fit; otherwise the next part is a new message
  that starts with the end of the text so far, and the old message loses its buttons.
- **Regenerate** writes the same seed again, with a new random seed, as a new message.

Buttons whose model is gone (deleted) are removed on the next press, with a private note;
a damaged model gets a private note and keeps them (its operator or owner may fix it).
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import discord

from bot.autocomplete import check_usable
from bot.cooldown import WritingCooldown
from bot.downloads import DownloadFailed
from bot.errors import UserFacingError
from bot.formatting import (
    FOOTER_LIMIT,
    MESSAGE_LIMIT,
    escape_within,
    generated_message,
    model_name,
    store_problem,
)
from bot.generation import Generated, GenerationService
from bot.i18n import Num, t
from bot.in_flight import Flight, Flights
from bot.pacing import Pacing, deliver, try_once, webhook_edit_key
from bot.registry import ModelRecord, ModelRegistry
from model_store import SampleOptions, SeedError

from .reply_buttons import reply_language, reply_state, reply_view
from .reply_text import (
    ATTACHMENT,
    FOOTER,
    NotAReply,
    Reply,
    ReplyState,
    StillWriting,
    Unreadable,
    fits_whole,
    read_reply,
    word_start,
)
from .unfinished import Unfinished, UnfinishedReplies

log = logging.getLogger(__name__)

EDIT_INTERVAL = 1.0  # seconds between edits of a streamed reply, at least
EDITS_PER_SECOND = 25  # streamed edits for all replies together: more replies, rarer edits
MAX_SEED = 500  # characters of seed (/generate's limit), and what Continue reads back
CONTEXT = 200  # characters of the text so far that a continuation in a new message starts with


@dataclass(frozen=True)
class Writing:
    """One piece of text to write: the model, what the reply shows in bold (``seed``), the
    text already shown after it (``before``, for a reply that grows) and what the model
    reads first (``prime``; the seed by default)."""

    record: ModelRecord
    seed: str
    options: SampleOptions
    before: str = ""
    prime: str | None = None

    @property
    def state(self) -> ReplyState:
        return ReplyState.of(self.record.id, self.record.name, self.options, len(self.seed))


class Target:
    """Where a reply is written: the interaction's @original (a deferred command's reply, or
    the message a button is on), or a new followup message, sent at the first show."""

    def __init__(
        self,
        interaction: discord.Interaction,
        *,
        new_message: bool = False,
        keep: discord.ui.View | None = None,
    ):
        self.interaction = interaction
        self.new_message = new_message
        self.keep = keep  # buttons @original keeps while written (a press is told busy)
        self.message: discord.WebhookMessage | None = None
        self.shown: discord.Message | None = None  # the message, once shown
        self.edit_key = webhook_edit_key(interaction)  # its rate-limit bucket (bot.pacing)

    @property
    def channel_id(self) -> int:
        channel = getattr(self.shown, "channel", None)
        return getattr(channel, "id", None) or self.interaction.channel_id or 0

    async def show(
        self,
        content: str,
        *,
        files: list[discord.File] | None = None,
        view: discord.ui.View | None = None,
    ) -> None:
        if not self.new_message:
            extra: dict[str, Any] = {"attachments": files} if files else {}
            view = view if view is not None else self.keep
            self.shown = await self.interaction.edit_original_response(
                content=content, view=view, **extra
            )
        elif self.message is None:
            extra = {"files": files} if files else {}
            if view is not None:
                extra["view"] = view
            self.message = await self.interaction.followup.send(content, wait=True, **extra)
            self.shown = self.message
        else:
            extra = {"attachments": files} if files else {}
            await self.message.edit(content=content, view=view, **extra)

    async def discard(self) -> None:
        """Remove a new message written in part (the error is told privately)."""
        if self.new_message and self.message is not None:
            try:
                await self.message.delete()
            except discord.HTTPException:
                log.warning("could not delete an unfinished reply", exc_info=True)


class ReplyWriter:
    """Handed what it uses: the Discord client (who the bot is), the models and the service
    that writes with them, the writing cooldown, the shutdown gate (``flights``: the replies
    being written; a shutdown stops them), the same replies by message id on disk
    (``unfinished``), the rate-limit pacing and the longest reply (read at each request)."""

    def __init__(
        self,
        client: discord.Client,
        *,
        registry: ModelRegistry,
        generation: GenerationService,
        cooldown: WritingCooldown,
        flights: Flights,
        unfinished: UnfinishedReplies,
        pacing: Pacing,
        max_length: Callable[[], int],
    ):
        self.client, self.registry, self.generation = client, registry, generation
        self.cooldown, self.flights, self.unfinished = cooldown, flights, unfinished
        self.pacing, self.max_length = pacing, max_length
        self._continuing: set[int] = set()  # messages a Continue is writing into

    @property
    def closing(self) -> bool:
        return self.flights.closing

    def check_open(self) -> None:
        """New writing is refused once the bot is stopping."""
        if self.flights.closing:
            raise UserFacingError("bot.restarting")

    # -- the commands ------------------------------------------------------------------------
    async def new_reply(
        self, interaction: discord.Interaction, record: ModelRecord, seed: str, opts: SampleOptions
    ) -> None:
        """Write into the deferred reply of a command (``/generate``, the message command)."""
        await self.write(Target(interaction), Writing(record, seed, opts), interaction.locale)

    async def write(self, target: Target, writing: Writing, locale: Any) -> None:
        """Stream ``writing`` into ``target``, then show the final reply with its buttons. A
        shutdown may stop it: the text so far is the final reply, which says so."""
        self.check_open()
        footer = model_footer(writing.record.name, writing.options.temperature, locale)
        with self.flights.flying() as flight:
            try:
                progress = await self._stream(target, writing, footer, locale, flight)
                text = writing.before + progress.text
                footer = final_footer(footer, text, progress.unknown, flight.stopped, locale)
                await show_final(target, writing.seed, text, footer, writing.state, locale)
            except discord.HTTPException:
                raise  # its row stays: the next start finishes it if it was left mid-write
            except Exception:
                await self._forget(flight)
                raise
            await self._forget(flight)

    async def _stream(
        self, target: Target, writing: Writing, footer: str, locale: Any, flight: Flight
    ) -> Generated:
        """Generate, editing the reply as the text grows; return the final result, or the
        text so far when a shutdown stops it."""
        if flight.stopping:
            return flight.progress
        flight.task = asyncio.ensure_future(self._edits(target, writing, footer, locale, flight))
        try:
            return await flight.task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if not flight.stopping or (current is not None and current.cancelling()):
                raise
            return flight.progress

    async def _edits(
        self, target: Target, writing: Writing, footer: str, locale: Any, flight: Flight
    ) -> Generated:
        """Edit the reply as the text grows (the more replies are streaming at once, the
        rarer each one's edits)."""
        service, record = self.generation, writing.record
        writing_footer = footer + " · " + t(locale, "generate.writing")
        last_edit = time.monotonic()
        prime = writing.prime if writing.prime is not None else writing.seed
        try:
            async for progress in service.stream(
                record.path, record.checksum, record.name, prime, writing.options
            ):
                flight.progress = progress
                self.cooldown.spent(target.interaction)  # the model is writing: it costs a turn
                now = time.monotonic()
                interval = max(EDIT_INTERVAL, service.in_flight / EDITS_PER_SECOND)
                if flight.stopping:
                    break
                due = now - last_edit >= interval and not progress.done
                if due and self.pacing.may_edit(target.edit_key):  # (else: skip this one)
                    text = writing.before + progress.text
                    content, _ = generated_message(writing.seed, text, writing_footer, cursor=True)
                    flight.editing = True
                    try:
                        await try_once(lambda c=content: target.show(c), "an edit of a reply")
                        await self._took_off(flight, target, writing.state, locale)
                    finally:
                        flight.editing = False
                    last_edit = now
                    if flight.stopping:
                        break
        except SeedError as exc:
            detail = store_problem("seed", exc.code, exc.params) or str(exc)
            raise UserFacingError("generate.bad_seed", detail=detail, name=record.name) from None
        return flight.progress

    async def _took_off(
        self, flight: Flight, target: Target, state: ReplyState, locale: Any
    ) -> None:
        """On a reply's first show: its message id goes to the database (no text), so that
        the next start can finish it if this process dies meanwhile."""
        if flight.message_id is not None or target.shown is None:
            return
        flight.message_id = target.shown.id
        guild_id = target.interaction.guild_id
        reply = Unfinished(flight.message_id, target.channel_id, guild_id, state, str(locale))
        try:
            await self.unfinished.begin(reply)
        except Exception:  # (the reply matters more than its bookkeeping)
            log.warning("could not record reply %d as unfinished", flight.message_id, exc_info=True)

    async def _forget(self, flight: Flight) -> None:
        if flight.message_id is None:
            return
        try:
            await self.unfinished.forget(flight.message_id)
        except Exception:
            log.warning("could not forget unfinished reply %d", flight.message_id, exc_info=True)

    # -- the buttons -------------------------------------------------------------------------
    async def continue_reply(self, interaction: discord.Interaction, state: ReplyState) -> None:
        """Continue: the next part, into the same message when it fits, else a new one."""
        message = interaction.message
        assert message is not None
        self.check_open()
        if message.id in self._continuing:  # (before the cooldown: this press costs nothing)
            raise UserFacingError("buttons.busy")
        self.cooldown.check(interaction)
        self._continuing.add(message.id)
        try:
            await interaction.response.defer()  # before any database or model work
            record = await self._model(interaction, state)
            reply = await self._read(interaction, state)
            whole = reply.seed + reply.text
            options = self._options(state, rng_seed=state.rng_seed)
            writing = Writing(record, reply.seed, options, reply.text, whole[-MAX_SEED:])
            if reply.whole and _grows_within_limits(message.content, options.length):
                await self._grow(interaction, writing, state)
            else:
                context = word_start(whole[-CONTEXT:])
                writing = Writing(record, context, options, "", writing.prime)
                locale = reply_language(message, interaction.locale)  # the text's, going on
                await self._in_new_message(interaction, writing, locale)
                await self._drop_buttons(interaction)  # the text goes on below
        finally:
            self._continuing.discard(message.id)

    async def regenerate(self, interaction: discord.Interaction, state: ReplyState) -> None:
        """Regenerate: the same seed, a new random seed, as a new message."""
        assert interaction.message is not None
        self.check_open()
        if interaction.message.id in self._continuing:  # its text is changing: read it after
            raise UserFacingError("buttons.busy")
        self.cooldown.check(interaction)
        await interaction.response.defer()  # before any database or model work
        record = await self._model(interaction, state)
        reply = await self._read(interaction, state)
        options = self._options(state, rng_seed=None)
        writing = Writing(record, reply.seed, options)  # a new take: the presser's, like /generate
        await self._in_new_message(interaction, writing, interaction.locale)

    def _options(self, state: ReplyState, *, rng_seed: int | None) -> SampleOptions:
        """The reply's options, its length within today's ``LSTM_BOT_MAX_LENGTH``."""
        options = state.options(rng_seed=rng_seed)
        length = min(options.length, self.max_length())
        return dataclasses.replace(options, length=length)

    async def _grow(
        self, interaction: discord.Interaction, writing: Writing, state: ReplyState
    ) -> None:
        message = interaction.message
        assert message is not None
        locale = reply_language(message, interaction.locale)  # the reply's, not the presser's
        target = Target(interaction, keep=reply_view(state, locale))
        try:
            await self.write(target, writing, locale)
        except Exception:  # put the reply back as it was, buttons included
            try:
                await interaction.edit_original_response(
                    content=message.content, view=reply_view(state, locale)
                )
            except discord.HTTPException:
                log.warning("could not restore a reply after a failed Continue", exc_info=True)
            raise

    async def _in_new_message(
        self, interaction: discord.Interaction, writing: Writing, locale: Any
    ) -> None:
        target = Target(interaction, new_message=True)
        try:
            await self.write(target, writing, locale)
        except Exception:
            await target.discard()
            raise

    async def _model(self, interaction: discord.Interaction, state: ReplyState) -> ModelRecord:
        record = await self.registry.by_id(interaction.guild_id, state.model_id)
        if record is None or record.name != state.model_name:  # (a newer one took its id)
            await self._drop_buttons(interaction)
            raise UserFacingError("buttons.model_gone")
        check_usable(self.registry, record)
        return record

    async def _read(self, interaction: discord.Interaction, state: ReplyState) -> Reply:
        assert interaction.message is not None
        try:
            return await read_reply(interaction.message, state)
        except StillWriting:
            raise UserFacingError("buttons.busy") from None
        except DownloadFailed as exc:  # a passing failure: the buttons stay
            raise UserFacingError("download.try_again", why=exc.why) from None
        except Unreadable as exc:
            log.info("message %d can't be read back: %s", interaction.message.id, exc)
            await self._drop_buttons(interaction)
            raise UserFacingError("buttons.unreadable") from None

    async def text_of(self, message: discord.Message) -> str:
        """A message's text for "Continue this text". A generated reply of this bot, with its
        buttons or without (an earlier part of a Continue chain, a reply whose model was
        deleted), is read back as the buttons read it: no markdown, no footer, from
        ``generated.txt`` when the text was attached; one still being written is refused as
        busy. Any other message: its content. Nothing of it is kept."""
        me = self.client.user
        if me is None or message.author.id != me.id:
            return message.content or ""
        try:
            reply = await read_reply(message, reply_state(message))
        except NotAReply:
            return message.content or ""
        except StillWriting:
            raise UserFacingError("continue.still_writing") from None
        except DownloadFailed as exc:
            raise UserFacingError("download.try_again", why=exc.why) from None
        except Unreadable as exc:
            log.info("message %d can't be read back: %s", message.id, exc)
            raise UserFacingError("continue.unreadable") from None
        return reply.seed + reply.text

    @staticmethod
    async def _drop_buttons(interaction: discord.Interaction) -> None:
        """Remove the buttons from the message they are on (its content stays)."""
        try:
            await interaction.edit_original_response(view=None)
        except discord.HTTPException:
            log.warning("could not remove the buttons of a reply", exc_info=True)


class Shown(Protocol):
    """Where a final reply is shown: a :class:`Target`, or a message (:mod:`.repair`)."""

    async def show(
        self,
        content: str,
        *,
        files: list[discord.File] | None = None,
        view: discord.ui.View | None = None,
    ) -> None: ...


async def show_final(
    target: Shown, seed: str, text: str, footer: str, state: ReplyState, locale: Any
) -> None:
    """The whole text, or (past 2000 characters, or when escaping could not be read back)
    a preview with the whole text as a file; Continue and Regenerate under it."""
    view = reply_view(state, locale)
    content = fits_whole(seed, text, footer)
    if content is not None:
        await deliver(lambda: target.show(content, view=view), "a reply's final text")
        return
    content, _ = generated_message(seed, text, footer + " · " + t(locale, "generate.attached"))
    raw = (seed + text).encode("utf-8")

    def show() -> Awaitable[None]:  # a new File each try: one is spent once sent
        files = [discord.File(io.BytesIO(raw), filename=ATTACHMENT)]
        return target.show(content, files=files, view=view)

    await deliver(show, "a reply's final text")


def model_footer(model: str, temperature: float, locale: Any) -> str:
    """The start of a reply's footer: the model and the temperature."""
    return t(locale, "generate.footer", model=model_name(model), temperature=Num(temperature, "g"))


def final_footer(
    footer: str, text: str, unknown: tuple[str, ...], stopped: bool, locale: Any
) -> str:
    """A final reply's footer: the model and temperature (``footer``), the length, the seed
    characters skipped, and "stopped: press Continue" when a shutdown ended it."""
    footer += " · " + t(locale, "generate.chars", count=len(text))
    if unknown:
        skipped = escape_within("".join(unknown), 40)
        footer += " · " + t(locale, "generate.skipped", chars=skipped)
    if stopped:
        footer += " · " + t(locale, "generate.stopped")
    return footer


def _grows_within_limits(content: str, length: int) -> bool:
    """Whether ``length`` more characters fit in this reply even if every one is escaped
    (two characters each) and the footer takes all its room."""
    body = content.split(FOOTER, 1)[0]
    return len(body) + 2 * length + len(FOOTER) + FOOTER_LIMIT <= MESSAGE_LIMIT

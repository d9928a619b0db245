"""/train: upload a text file, get a new model trained on it by the worker."""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import model_choices, resolve_model
from bot.client import LSTMBot
from bot.downloads import DownloadFailed, download
from bot.errors import UserFacingError
from bot.formatting import code, sentence, shorten, store_problem
from bot.i18n import Message, Num, t
from bot.permissions import server_only
from bot.registry import ModelRecord
from bot.transfer import base_model_for
from bot.tree import defer
from jobs.errors import SubmitRejected
from jobs.records import BaseModel, Limits
from model_store import CorpusError, InvalidNameError, check_name
from model_store.corpus import decode_corpus

from .job_reporter import JobReporter

log = logging.getLogger(__name__)

ACCEPTED_SUFFIXES = (".txt",)


class Training(commands.Cog):
    def __init__(self, bot: LSTMBot, reporter: JobReporter):
        self.bot, self.reporter = bot, reporter

    async def cog_load(self) -> None:
        self.reporter.start()

    async def cog_unload(self) -> None:
        await self.reporter.stop()

    @app_commands.command(name="train", description="Train a new model on a .txt file")
    @app_commands.describe(
        file="A .txt file (UTF-8, or UTF-16 from Notepad) with the text whose style to learn",
        name="Name of the new model (2-32 lowercase letters, digits, - or _)",
        base="Model to fine-tune (default: the built-in one)",
        effort="quick (up to 5 min), normal (15), thorough (60); sized to your text, stops once "
        "it stops improving",
        from_scratch="Train a new network instead of fine-tuning (needs much more text)",
    )
    @app_commands.autocomplete(base=model_choices)
    @server_only()
    async def train(
        self,
        interaction: discord.Interaction,
        file: discord.Attachment,
        name: app_commands.Range[str, 2, 32],
        base: str | None = None,
        effort: Literal["quick", "normal", "thorough"] = "normal",
        from_scratch: bool = False,
    ) -> None:
        settings = self.bot.settings
        guild_id = interaction.guild_id
        assert guild_id is not None
        name = _checked_name(name)
        shown = code(shorten(file.title or file.filename, 60))  # the name as uploaded
        names = (file.filename, file.title or "")
        if not any(n.lower().endswith(ACCEPTED_SUFFIXES) for n in names):
            raise UserFacingError("train.not_txt", file=shown)
        _check_size(file.size, settings.max_upload_bytes)
        await defer(interaction, ephemeral=True)  # before any database or file work
        if await self.bot.registry.name_taken(guild_id, name):
            raise UserFacingError("train.name_taken", name=name)
        if await self.bot.registry.count(guild_id) >= settings.max_models_per_guild:
            raise UserFacingError("train.too_many_models", count=settings.max_models_per_guild)
        base_record = None if from_scratch else await resolve_model(interaction, base, usable=True)
        text = await _read_text(file, shown, settings.max_upload_bytes, settings.min_corpus_chars)
        try:
            job, _ = await self.bot.jobs.submit(
                guild_id=guild_id,
                channel_id=interaction.channel_id or 0,
                user_id=interaction.user.id,
                model_name=name,
                corpus=text.encode("utf-8"),
                params={"effort": effort, "corpus_name": shorten(file.title or file.filename, 100)},
                base=await self._base(base_record) if base_record else None,
                dedupe_key=str(interaction.id),
                limits=Limits.from_settings(settings),
                locale=str(interaction.locale),
            )
        except SubmitRejected as exc:
            raise UserFacingError("train.refused", detail=sentence(str(exc))) from None
        content = _queued_text(
            interaction.locale,
            job.id,
            name,
            base_record,
            effort,
            len(text),
            await self.bot.jobs.position(job.id),
        )
        if self.bot.worker_hint:  # the offline console's note, in English
            content += f"\n{self.bot.worker_hint}"
        await interaction.edit_original_response(content=content)
        self.reporter.poke()

    async def _base(self, record: ModelRecord) -> BaseModel:
        """The base model for a job, its files read from this machine's copy."""
        files = self.bot.model_files
        folder = await files.local_path(record.path, record.checksum, record.name)
        return await asyncio.to_thread(base_model_for, record, folder)


def _checked_name(name: str) -> str:
    name = name.strip().lower()
    try:
        check_name(name)
    except InvalidNameError:
        raise UserFacingError("train.bad_name", name=code(shorten(name, 40))) from None
    return name


async def _read_text(file: discord.Attachment, shown: str, max_bytes: int, min_chars: int) -> str:
    """The upload's text: downloaded, its real size checked, decoded (UTF-8 or UTF-16/32)."""
    data = await _download(file, shown)
    _check_size(len(data), max_bytes)
    try:
        return decode_corpus(data, what="The file", min_chars=min_chars)
    except CorpusError as exc:
        detail = store_problem("corpus", exc.code, exc.params) or sentence(str(exc))
        raise UserFacingError("train.bad_text", detail=detail) from None


def _queued_text(
    locale: discord.Locale,
    job_id: int,
    name: str,
    base: ModelRecord | None,
    effort: str,
    chars: int,
    position: int | None,
) -> str:
    """The private reply once the job is queued: what will happen and where to watch it."""
    if base:
        how = t(locale, "job.how_finetune", base=f"`{base.name}`")
    else:
        how = t(locale, "job.how_scratch")
    content = t(
        locale,
        "train.queued",
        id=job_id,
        name=name,
        how=how,
        effort=Message(f"effort.{effort}"),
        chars=Num(chars),
    )
    if position:
        content += " " + t(locale, "train.position", position=position)
    return content + " " + t(locale, "train.progress_here")


def _check_size(size: int, limit: int) -> None:
    if size == 0:
        raise UserFacingError("train.file_empty")
    if size > limit:
        raise UserFacingError(
            "train.file_too_big", size=Num(size), limit=Num(limit), mb=Num(limit / 1e6, "g")
        )


async def _download(file: discord.Attachment, shown: str) -> bytes:
    """The upload's bytes (:func:`bot.downloads.download`): a file that is gone asks for
    another upload; a passing failure (a time-out, a 5xx, a reset connection) for a retry."""
    try:
        return await download(file)
    except DownloadFailed as exc:
        if exc.gone:
            raise UserFacingError("train.download_failed", file=shown, why=exc.why) from None
        raise UserFacingError("train.download_try_again", file=shown, why=exc.why) from None

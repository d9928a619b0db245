"""/job status | list | cancel: this server's training jobs."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import LSTMBot
from bot.errors import UserFacingError
from bot.i18n import Message, t
from bot.permissions import may_manage, server_only
from bot.tree import defer
from jobs.records import Job

from .job_reporter import JobReporter
from .job_views import status_line


class Jobs(commands.GroupCog, group_name="job", group_description="Training jobs"):
    def __init__(self, bot: LSTMBot, reporter: JobReporter):
        self.bot, self.reporter = bot, reporter
        super().__init__()

    async def _job(self, interaction: discord.Interaction, job_id: int) -> Job:
        job = await self.bot.jobs.get(job_id)
        if job is None or job.guild_id != interaction.guild_id:
            raise UserFacingError("job.not_found", id=job_id)
        return job

    @app_commands.command(name="status", description="Where a training job is")
    @app_commands.describe(id="Job number (default: your latest job here)")
    @server_only()
    async def status(self, interaction: discord.Interaction, id: int | None = None) -> None:
        await defer(interaction, ephemeral=True)
        if id is None:
            mine = [
                j
                for j in await self.bot.jobs.list_for_guild(interaction.guild_id or 0, 50)
                if j.user_id == interaction.user.id
            ]
            if not mine:
                raise UserFacingError("job.none_yours")
            job = mine[0]
        else:
            job = await self._job(interaction, id)
        position = await self.bot.jobs.position(job.id)
        line = status_line(job, position, interaction.locale)
        await interaction.edit_original_response(content=line)

    @app_commands.command(name="list", description="This server's recent training jobs")
    @server_only()
    async def list_jobs(self, interaction: discord.Interaction) -> None:
        await defer(interaction, ephemeral=True)
        locale = interaction.locale
        jobs = await self.bot.jobs.list_for_guild(interaction.guild_id or 0, 10)
        if not jobs:
            await interaction.edit_original_response(content=t(locale, "job.none_here"))
            return
        lines = [status_line(j, await self.bot.jobs.position(j.id), locale) for j in jobs]
        await interaction.edit_original_response(
            embed=discord.Embed(title=t(locale, "job.list_title"), description="\n".join(lines))
        )

    @app_commands.command(name="cancel", description="Stop a training job")
    @app_commands.describe(id="Job number")
    @server_only()
    async def cancel(self, interaction: discord.Interaction, id: int) -> None:
        await defer(interaction, ephemeral=True)
        job = await self._job(interaction, id)
        member = interaction.user
        allowed = await may_manage(self.bot, member, job.user_id)
        if not allowed:
            raise UserFacingError("job.cancel_not_allowed")
        if job.finished:
            status = Message(f"status.{job.status}")  # in the reader's language
            raise UserFacingError("job.already_finished", id=job.id, status=status)
        job = await self.bot.jobs.request_cancel(job.id)
        assert job is not None
        if job.status == "cancelled":  # never trained on: its upload was deleted with it
            message = t(interaction.locale, "job.cancelled_before_start", id=job.id)
        else:
            message = t(interaction.locale, "job.stopping", id=job.id)
        await interaction.edit_original_response(content=message)
        self.reporter.poke()

"""The training feature (one extension): ``/train``, ``/job status | list | cancel`` and the
job reporter that imports finished models and tells each job's channel how it goes.

``train`` and ``job`` hold the two cogs, ``job_reporter`` the reporter (the ``Training``
cog starts it when loaded and stops it when unloaded, which ``Bot.close`` does first),
``job_views`` the job embeds and status lines.
"""

from __future__ import annotations

from bot.client import LSTMBot

from .job import Jobs
from .job_reporter import JobReporter
from .train import Training


async def setup(bot: LSTMBot) -> None:
    reporter = JobReporter(bot, bot.settings.poll_seconds)
    await bot.add_cog(Training(bot, reporter))
    await bot.add_cog(Jobs(bot, reporter))

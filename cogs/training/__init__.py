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


def reporter_for(bot: LSTMBot, poll_seconds: float | None = None) -> JobReporter:
    """The job reporter of ``bot``, handed only what it uses."""
    settings = bot.settings
    return JobReporter(
        bot,
        bot.jobs,
        bot.importer,
        bot.pacing,
        servers=lambda: bot.servers,
        keep_corpora=settings.keep_corpora,
        data_dir=settings.data_dir,
        poll_seconds=settings.poll_seconds if poll_seconds is None else poll_seconds,
    )


async def setup(bot: LSTMBot) -> None:
    reporter = reporter_for(bot)
    await bot.add_cog(Training(bot, reporter))
    await bot.add_cog(Jobs(bot, reporter))

"""Deleting a model (``/model delete``): every place that holds it, in a safe order."""

from __future__ import annotations

import logging

from bot.generation import GenerationService
from bot.guild_settings import GuildSettings
from bot.registry import ModelRecord, ModelRegistry
from jobs.queue import JobQueue

log = logging.getLogger(__name__)


class ModelDeletion:
    def __init__(
        self,
        registry: ModelRegistry,
        guild_settings: GuildSettings,
        generation: GenerationService,
        jobs: JobQueue,
    ):
        self.registry, self.guild_settings = registry, guild_settings
        self.generation, self.jobs = generation, jobs

    async def delete(self, record: ModelRecord) -> bool:
        """Delete ``record`` (that very model: :class:`ModelGone` when it has gone meanwhile);
        True when it was its server's default model (now unset)."""
        await self.registry.hide(record)  # first: nothing can choose or use it any more
        was_default = await self.guild_settings.forget_model(record)
        self.generation.evict(record.path)
        await self.registry.remove(record)
        # An uploaded text kept from its training goes too, if that job is in this queue.
        if record.job_id is not None and record.job_queue == await self.jobs.identity():
            await self.jobs.delete_corpus(record.job_id)
        log.info("deleted model %s of guild %s", record.name, record.guild_id)
        return was_default

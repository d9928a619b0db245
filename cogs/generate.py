"""/generate: continue a seed in a model's style, streamed into the reply."""

from __future__ import annotations

import io
import time

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import model_choices, resolve_model
from bot.client import LSTMBot
from bot.errors import UserFacingError
from bot.formatting import escape, escape_within, generated_message
from bot.generation import Generated
from bot.registry import ModelRecord
from bot.tree import defer
from model_store import SampleOptions, SeedError

EDIT_INTERVAL = 1.0  # seconds between edits of a streamed reply, at least
EDITS_PER_SECOND = 25  # streamed edits for all replies together: more replies, rarer edits
MAX_SEED = 500


def _cooldown(interaction: discord.Interaction) -> app_commands.Cooldown | None:
    per = interaction.client.settings.generate_cooldown  # type: ignore[attr-defined]
    return app_commands.Cooldown(1, per) if per > 0 else None


class Generate(commands.Cog):
    def __init__(self, bot: LSTMBot):
        self.bot = bot

    @app_commands.command(name="generate", description="Continue your text in a learned style")
    @app_commands.describe(
        seed="Text to start from (the model continues it)",
        temperature="Randomness: 0 = most likely text, 0.5 = balanced, 1+ = wild",
        model="Model to write with (default: the built-in one)",
        length="How many characters to add (default 400)",
        top_p="Only sample from the most likely characters covering this probability",
        rng_seed="Random seed: the same seed and options give the same text",
    )
    @app_commands.autocomplete(model=model_choices)
    @app_commands.checks.dynamic_cooldown(_cooldown)
    async def generate(
        self,
        interaction: discord.Interaction,
        seed: app_commands.Range[str, 1, MAX_SEED],
        temperature: app_commands.Range[float, 0.0, 2.0],
        model: str | None = None,
        length: app_commands.Range[int, 1, 5000] = 400,
        top_p: app_commands.Range[float, 0.01, 1.0] = 1.0,
        rng_seed: app_commands.Range[int, 0, 2**31 - 1] | None = None,
    ) -> None:
        if not seed.strip():
            raise UserFacingError("The seed is empty: give me some text to continue.")
        limit = self.bot.settings.max_length
        if length > limit:
            raise UserFacingError(f"The longest I write here is {limit} characters.")
        if not (0.0 <= temperature <= 2.0 and 0.0 < top_p <= 1.0 and length >= 1):
            # Discord enforces the declared ranges; this guards against anything that doesn't.
            raise UserFacingError("Out of range: temperature 0-2, top_p 0.01-1, length 1 or more.")
        options = SampleOptions(
            temperature=temperature, length=length, top_p=top_p, rng_seed=rng_seed
        )
        await defer(interaction)  # before any database or model work
        record = await resolve_model(interaction, model, usable=True)
        footer = f"{escape(record.name)} · temperature {temperature:g}"
        try:
            final = await self._stream(interaction, record, seed, options, footer)
        except SeedError as exc:
            raise UserFacingError(
                f"I can't continue that seed: {exc}. The model `{record.name}` only knows "
                "the characters of the text it was trained on."
            ) from None
        footer += f" · {len(final.text)} characters"
        if final.unknown:
            skipped = escape_within("".join(final.unknown), 40)
            footer += f" · skipped unknown characters: {skipped}"
        await _final_reply(interaction, seed, final.text, footer)

    async def _stream(
        self,
        interaction: discord.Interaction,
        record: ModelRecord,
        seed: str,
        options: SampleOptions,
        footer: str,
    ) -> Generated:
        """Generate, editing the reply as the text grows (the more replies are streaming at
        once, the rarer each one's edits); return the final result."""
        service = self.bot.generation
        progress = Generated("", False)
        last_edit = time.monotonic()
        async for progress in service.stream(
            record.path, record.checksum, record.name, seed, options
        ):
            now = time.monotonic()
            interval = max(EDIT_INTERVAL, service.in_flight / EDITS_PER_SECOND)
            if now - last_edit >= interval and not progress.done:
                content, _ = generated_message(
                    seed, progress.text, footer + " · writing…", cursor=True
                )
                await interaction.edit_original_response(content=content)
                last_edit = now
        return progress


async def _final_reply(interaction: discord.Interaction, seed: str, text: str, footer: str) -> None:
    """The whole text, or (past Discord's 2000 characters) a preview and the text as a file."""
    content, whole = generated_message(seed, text, footer)
    if whole:
        await interaction.edit_original_response(content=content)
        return
    content, _ = generated_message(seed, text, footer + " · full text attached")
    data = io.BytesIO((seed + text).encode("utf-8"))
    await interaction.edit_original_response(
        content=content, attachments=[discord.File(data, filename="generated.txt")]
    )


async def setup(bot: LSTMBot) -> None:
    await bot.add_cog(Generate(bot))

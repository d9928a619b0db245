"""How training jobs look in Discord: progress embeds, results, status lines (no I/O)."""

from __future__ import annotations

import time
from typing import Any

import discord

from jobs.records import Job
from model_store.outcome import SMALL_TEXT, Outcome

from .formatting import duration, escape, progress_bar, shorten

STATUS_ICON = {
    "queued": "⏳",
    "running": "🏋️",
    "succeeded": "✅",
    "failed": "❌",
    "cancelled": "🛑",
}


def job_title(job: Job, icon: str | None = None) -> str:
    how = f"fine-tuning {job.base_model}" if job.base_model else "from scratch"
    icon = icon or STATUS_ICON.get(job.status, "")
    return f"{icon} Training `{job.model_name}` (job #{job.id}, {how})"


def status_line(job: Job, position: int | None = None) -> str:
    line = f"#{job.id} `{job.model_name}` · {job.status}"
    if job.status == "queued" and position:
        line += f" · place {position} in the queue"
    if job.error and job.status == "failed":
        line += f" · {shorten(job.error, 120)}"
    if job.cancel_requested and job.status == "running":
        line += " · cancelling"
    line += f" · by <@{job.user_id}> · {ago(job.created_at)}"
    return line


def ago(timestamp: float) -> str:
    return f"{duration(max(0.0, time.time() - timestamp))} ago"


def progress_embed(job: Job, state: dict[str, Any]) -> discord.Embed:
    """The channel's progress message for ``job``; ``state`` folds in the latest events."""
    colour = {
        "succeeded": discord.Colour.green(),
        "failed": discord.Colour.red(),
        "cancelled": discord.Colour.dark_grey(),
    }.get(job.status, discord.Colour.blurple())
    outcome = Outcome.from_card(state.get("result", {}).get("card", {}))
    learned_little = job.status == "succeeded" and outcome is not None and not outcome.learned
    if learned_little:
        colour = discord.Colour.orange()
    embed = discord.Embed(title=job_title(job, "⚠️" if learned_little else None), colour=colour)
    progress = state.get("progress")
    if job.status == "queued":
        embed.description = state.get("note") or "Waiting for a worker…"
    elif job.status == "running" and progress:
        total = progress["epochs"] * progress["steps"]
        done = (progress["epoch"] - 1) * progress["steps"] + progress["step"]
        fraction = done / total if total else 0.0
        held = progress.get("heldout_loss")
        embed.description = (
            f"{progress_bar(fraction)} {fraction:.0%}\n"
            f"epoch {progress['epoch']}/{progress['epochs']} · loss {progress['loss']:.3f}"
            + (f" · held-out {held:.3f}" if held is not None else "")
            + f"\n{progress['chars_per_sec']:,.0f} characters/s · "
            f"ETA {duration(progress.get('eta_seconds'))}"
        )
    elif job.status == "running":
        embed.description = state.get("note") or "Starting…"
    elif learned_little:
        embed.description = f"Finished, but `{job.model_name}` learned little: see the result."
    elif job.status == "succeeded":
        embed.description = f"Done: `{job.model_name}` is ready. Try `/generate`."
    elif job.status == "failed":
        embed.description = f"Training failed: {job.error or 'unknown reason'}"
    elif job.status == "cancelled":
        embed.description = "Cancelled."
    if state.get("device"):
        embed.set_footer(text=f"training on {state['device']}")
    sample = state.get("sample")
    if sample and job.status == "running":
        embed.add_field(
            name=f"Sample after epoch {sample['epoch']}",
            value=shorten(escape(sample["seed"] + sample["text"]), 300),
            inline=False,
        )
    return embed


def result_embed(job: Job, payload: dict[str, Any]) -> discord.Embed:
    """The result message: the model's held-out loss next to its base's and a uniform guess;
    a model that learned nothing says so (no success mark) and what would help."""
    card = payload.get("card", {})
    outcome = Outcome.from_card(card)
    learned = outcome is None or outcome.learned
    usage = f"use it with `/generate model:{job.model_name}`"
    if learned:
        embed = discord.Embed(
            title=f"✅ `{job.model_name}` is trained",
            colour=discord.Colour.green(),
            description=f"by <@{job.user_id}> · {usage}",
        )
    else:
        assert outcome is not None
        embed = discord.Embed(
            title=f"⚠️ `{job.model_name}` is trained but learned little",
            colour=discord.Colour.orange(),
            description=f"by <@{job.user_id}> · {outcome.shortfall()} {advice(job, outcome)} "
            f"You can still {usage}, or delete it with `/model delete`.",
        )
    value = outcome.figures() if outcome is not None else "?"
    embed.add_field(name="Held-out loss", value=value, inline=False)
    corpus = card.get("corpus", {})
    embed.add_field(
        name="Corpus",
        value=f"{corpus.get('chars', 0):,} characters"
        + (f", {corpus['new_chars']} new" if corpus.get("new_chars") else ""),
    )
    training = card.get("training", {})
    steps = training.get("steps_run")
    embed.add_field(
        name="Training",
        value=f"{payload.get('epochs_run', '?')} epochs"
        + (f" ({steps:,} steps)" if steps else "")
        + f" in {duration(payload.get('seconds'))}",
    )
    sample = payload.get("sample")
    if sample:
        embed.add_field(
            name="Sample",
            value=shorten(escape(payload.get("sample_seed", "") + sample), 900),
            inline=False,
        )
    return embed


def advice(job: Job, outcome: Outcome) -> str:
    """What would help a model that learned too little, in /train's terms."""
    if outcome.small_text:
        more = (
            f"More text would help most (this one had {outcome.chars:,} characters; "
            f"{SMALL_TEXT:,} or more learn a style well)"
        )
    else:
        more = "A longer text would help"
    if not job.base_model:
        return f"{more}; training from scratch needs far more text than fine-tuning (the default)."
    if job.params.get("effort") == "thorough":
        return f"{more}."
    return f"{more}, and so would `effort:thorough`."

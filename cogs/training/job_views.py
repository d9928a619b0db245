"""How training jobs look in Discord: progress embeds, results, status lines (no I/O).

The channel's progress and result messages are in the language of the member who started the
job (``Job.locale``, from their Discord client when they ran ``/train``); status lines in the
language of whoever asks. Why a job failed or is retried is shown from its reason code
(:mod:`jobs.reasons`, the ``reason.<code>`` messages), or as the worker's English sentence when
the code is unknown here (a newer worker) or missing (a job recorded before codes).
"""

from __future__ import annotations

import time
from typing import Any

import discord

from bot.formatting import (
    duration,
    escape,
    figures,
    model_name,
    progress_bar,
    shorten,
    store_problem,
)
from bot.i18n import Num, has_message, t
from jobs.records import Job
from model_store.outcome import SMALL_TEXT, Outcome

STATUS_ICON = {
    "queued": "⏳",
    "running": "🏋️",
    "succeeded": "✅",
    "failed": "❌",
    "cancelled": "🛑",
}


def job_title(job: Job, icon: str | None = None) -> str:
    locale = job.locale
    if job.base_model:
        how = t(locale, "job.how_finetune", base=model_name(job.base_model))
    else:
        how = t(locale, "job.how_scratch")
    icon = icon or STATUS_ICON.get(job.status, "")
    return t(locale, "job.title", icon=icon, name=job.model_name, id=job.id, how=how)


def status_name(status: str, locale: object = None) -> str:
    return t(locale, f"status.{status}")


def status_line(job: Job, position: int | None = None, locale: object = None) -> str:
    parts = [f"#{job.id} `{job.model_name}`", status_name(job.status, locale)]
    if job.status == "queued" and position:
        parts.append(t(locale, "job.place", position=position))
    if job.error and job.status == "failed":
        parts.append(shorten(job_error(job, locale), 120))
    if job.cancel_requested and job.status == "running":
        parts.append(t(locale, "job.cancelling"))
    parts.append(t(locale, "job.by", user=f"<@{job.user_id}>"))
    parts.append(ago(job.created_at, locale))
    return " · ".join(parts)


def reason_text(
    locale: object, code: str | None, params: dict[str, Any] | None, english: str | None
) -> str:
    """A failure or retry reason in the reader's language: the message of its ``code``, else
    the worker's ``english`` sentence (a code this bot doesn't know, or none)."""
    if code and has_message(f"reason.{code}"):
        params = dict(params or {})
        problem = params.pop("problem", None)  # bad_text: the model store's problem code
        if isinstance(problem, dict):
            detail = str(params.get("detail", ""))
            shown = store_problem("corpus", str(problem.get("code")), problem)
            params["detail"] = shown or detail
        try:
            return t(locale, f"reason.{code}", **params)
        except (KeyError, IndexError):  # parameters from another version: use its English
            pass
    return english or t(locale, "job.unknown_reason")


def job_error(job: Job, locale: object) -> str:
    """Why ``job`` failed (or was last retried), for a reader in ``locale``."""
    return reason_text(locale, job.error_code, job.error_params, job.error)


def ago(timestamp: float, locale: object = None) -> str:
    return t(locale, "job.ago", duration=duration(max(0.0, time.time() - timestamp)))


def progress_embed(job: Job, state: dict[str, Any]) -> discord.Embed:
    """The channel's progress message for ``job``; ``state`` folds in the latest events."""
    locale = job.locale
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
        embed.description = state.get("note") or t(locale, "job.waiting")
    elif job.status == "running" and progress:
        embed.description = _progress_text(progress, locale)
    elif job.status == "running":
        embed.description = state.get("note") or t(locale, "job.starting")
    elif learned_little:
        embed.description = t(locale, "job.learned_little", name=job.model_name)
    elif job.status == "succeeded":
        embed.description = t(locale, "job.done", name=job.model_name)
    elif job.status == "failed":
        embed.description = t(locale, "job.failed", error=job_error(job, locale))
    elif job.status == "cancelled":
        embed.description = t(locale, "job.cancelled")
    if state.get("device"):
        embed.set_footer(text=t(locale, "job.device", device=state["device"]))
    sample = state.get("sample")
    if sample and job.status == "running":
        embed.add_field(
            name=t(locale, "job.sample_after", epoch=sample["epoch"]),
            value=shorten(escape(sample["seed"] + sample["text"]), 300),
            inline=False,
        )
    return embed


def _progress_text(progress: dict[str, Any], locale: object) -> str:
    total = progress["epochs"] * progress["steps"]
    done = (progress["epoch"] - 1) * progress["steps"] + progress["step"]
    fraction = done / total if total else 0.0
    held = progress.get("heldout_loss")
    line = t(
        locale,
        "job.epoch",
        epoch=progress["epoch"],
        epochs=progress["epochs"],
        loss=Num(progress["loss"], ".3f"),
    )
    if held is not None:
        line += " · " + t(locale, "job.heldout", loss=Num(held, ".3f"))
    speed = t(
        locale,
        "job.speed",
        speed=Num(progress["chars_per_sec"], ",.0f"),
        eta=duration(progress.get("eta_seconds")),
    )
    return f"{progress_bar(fraction)} {fraction:.0%}\n{line}\n{speed}"


def result_embed(job: Job, payload: dict[str, Any]) -> discord.Embed:
    """The result message: the model's held-out loss next to its base's and a uniform guess;
    a model that learned nothing says so (no success mark) and what would help."""
    locale = job.locale
    card = payload.get("card", {})
    outcome = Outcome.from_card(card)
    learned = outcome is None or outcome.learned
    usage = t(locale, "result.usage", name=job.model_name)
    user = f"<@{job.user_id}>"
    if learned:
        embed = discord.Embed(
            title=t(locale, "result.title", name=job.model_name),
            colour=discord.Colour.green(),
            description=t(locale, "result.description", user=user, usage=usage),
        )
    else:
        assert outcome is not None
        embed = discord.Embed(
            title=t(locale, "result.title_little", name=job.model_name),
            colour=discord.Colour.orange(),
            description=t(
                locale,
                "result.description_little",
                user=user,
                shortfall=shortfall(outcome, locale),
                advice=advice(job, outcome),
                usage=usage,
            ),
        )
    value = figures(outcome, locale) if outcome is not None else "?"
    embed.add_field(name=t(locale, "field.heldout"), value=value, inline=False)
    corpus = card.get("corpus", {})
    chars, new = Num(corpus.get("chars", 0)), corpus.get("new_chars")
    if new:
        corpus_text = t(locale, "result.chars_new", count=chars, new=Num(new))
    else:
        corpus_text = t(locale, "result.chars", count=chars)
    embed.add_field(name=t(locale, "field.corpus"), value=corpus_text)
    embed.add_field(name=t(locale, "field.training"), value=training_text(payload, card, locale))
    sample = payload.get("sample")
    if sample:
        embed.add_field(
            name=t(locale, "field.sample"),
            value=shorten(escape(payload.get("sample_seed", "") + sample), 900),
            inline=False,
        )
    return embed


def shortfall(outcome: Outcome, locale: object = None) -> str:
    """What a model that learned little failed to beat, as a sentence."""
    loss = Num(outcome.loss, ".3f")
    if not outcome.beats_uniform:
        uniform = Num(outcome.uniform, ".3f")
        return t(locale, "outcome.below_uniform", loss=loss, uniform=uniform)
    return t(locale, "outcome.below_base", loss=loss, base=Num(outcome.base or 0.0, ".3f"))


def advice(job: Job, outcome: Outcome) -> str:
    """What would help a model that learned too little, in /train's terms."""
    locale = job.locale
    if outcome.small_text:
        more = t(locale, "advice.more_small", chars=Num(outcome.chars), small=Num(SMALL_TEXT))
    else:
        more = t(locale, "advice.more")
    if not job.base_model:
        return t(locale, "advice.scratch", more=more)
    if job.params.get("effort") == "thorough":
        return t(locale, "advice.enough_effort", more=more)
    return t(locale, "advice.effort", more=more)


def training_text(payload: dict[str, Any], card: dict[str, Any], locale: object) -> str:
    """How long the training ran: epochs (and optimisation steps, when known) and time."""
    epochs, steps = payload.get("epochs_run") or 0, card.get("training", {}).get("steps_run")
    took = duration(payload.get("seconds"))
    if steps:
        return t(locale, "result.training_steps", count=epochs, steps=Num(steps), duration=took)
    return t(locale, "result.training", count=epochs, duration=took)

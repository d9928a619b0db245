"""The models feature's embeds: a page of ``/model list`` and a model's card (``/model info``)."""

from __future__ import annotations

import datetime

import discord

from bot.formatting import FIELD_LIMIT, duration, escape_within, figures, loss_text, model_name
from bot.i18n import Num, t
from bot.registry import ModelRecord
from model_store.outcome import Outcome

PAGE_SIZE = 8


def _owner(record: ModelRecord, locale: object) -> str:
    if record.builtin:
        return t(locale, "model.builtin")
    return t(locale, "model.by", user=f"<@{record.owner_id}>")


def list_page(
    records: list[ModelRecord],
    page: int,
    broken: set[str],
    locale: object = None,
    default: str | None = None,
) -> discord.Embed:
    """One page of the list; models named in ``broken`` are shown as unavailable, the one
    named ``default`` as the server's default."""
    pages = max(1, -(-len(records) // PAGE_SIZE))
    embed = discord.Embed(title=t(locale, "list.title"), colour=discord.Colour.blurple())
    for r in records[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]:
        if r.name in broken:
            value = f"{_owner(r, locale)} · ⚠️ {t(locale, 'list.damaged')}"
        else:
            base = t(locale, "list.base", base=model_name(r.base or "—"))
            value = f"{_owner(r, locale)} · {base}\n" + t(
                locale,
                "list.loss",
                loss=loss_text(r.card, locale),
                date=r.created_at[:10] or "?",
            )
        if r.name == default:  # the model /generate uses here when none is named
            value = f"⭐ {t(locale, 'list.default')} · {value}"
        embed.add_field(name=model_name(r.name), value=value, inline=False)
    embed.set_footer(text=t(locale, "list.footer", page=page + 1, pages=pages))
    return embed


def card_embed(record: ModelRecord, sample: str, locale: object = None) -> discord.Embed:
    card = record.card
    net = card.get("network", {})
    corpus = card.get("corpus", {})
    training = card.get("training", {})
    embed = discord.Embed(
        title=t(locale, "card.title", name=model_name(record.name)), colour=discord.Colour.blurple()
    )
    maker = t(locale, "model.builtin") if record.builtin else f"<@{record.owner_id}>"
    embed.add_field(name=t(locale, "card.made_by"), value=maker)
    embed.add_field(
        name=t(locale, "card.base"),
        value=model_name(record.base) if record.base else t(locale, "card.from_scratch"),
    )
    outcome = Outcome.from_card(card)  # next to its base's and a uniform guess
    loss = figures(outcome, locale) if outcome else loss_text(card, locale)
    bits = Num(card.get("heldout_loss_bits", 0), ".3f")
    embed.add_field(
        name=t(locale, "field.heldout"), value=t(locale, "card.loss", loss=loss, bits=bits)
    )
    embed.add_field(
        name=t(locale, "card.network"),
        value=t(
            locale,
            "card.network_value",
            layers=net.get("layers"),
            units=net.get("units"),
            vocab=net.get("vocab_size"),
        ),
    )
    chars = t(locale, "result.chars", count=Num(corpus.get("chars", 0)))
    if corpus.get("name"):
        chars += f" ({escape_within(str(corpus['name']), 200)})"
    embed.add_field(name=t(locale, "field.corpus"), value=chars)
    embed.add_field(
        name=t(locale, "field.training"),
        value=t(
            locale,
            "card.training",
            count=training.get("epochs_run") or 0,
            duration=duration(card.get("training_seconds")),
        ),
    )
    embed.add_field(
        name=t(locale, "card.sample"), value=escape_within(sample, FIELD_LIMIT), inline=False
    )
    embed.set_footer(text=t(locale, "card.created"))
    embed.timestamp = _created_at(card)  # shown by Discord in the reader's time zone
    return embed


def _created_at(card: dict) -> datetime.datetime | None:
    try:
        when = datetime.datetime.fromisoformat(str(card.get("created_at")))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=datetime.UTC)

"""Every reply the bot builds fits Discord's limits, whatever the seed and length."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.formatting import MESSAGE_LIMIT, escape, escape_within, generated_message

# The characters that markdown escaping doubles, and the ones that start a markdown line.
WORST = "_*~`|\\>#-[]()<@&!:.\n "
texts = st.text(alphabet=st.sampled_from(WORST) | st.characters(), max_size=5000)
seeds = st.text(alphabet=st.sampled_from(WORST) | st.characters(), min_size=1, max_size=500)


@settings(max_examples=300, deadline=None)
@given(seed=seeds, text=texts, cursor=st.booleans(), footer=st.text(max_size=400))
def test_generated_message_always_fits(seed, text, cursor, footer):
    content, whole = generated_message(seed, text, footer, cursor=cursor)
    assert len(content) <= MESSAGE_LIMIT
    if whole:
        assert content.startswith(f"**{escape(seed)}**{escape(text)}")


def test_the_issues_example_fits():
    """Issue 7.3: a seed of 500 '_' and 1000 characters made a 2,073-character reply."""
    footer = "basic · temperature 0.5 · 1000 characters"
    content, whole = generated_message("_" * 500, "x_" * 500, footer)
    assert len(content) <= MESSAGE_LIMIT and not whole
    assert content.startswith("**…\\_") and content.endswith(footer)


@settings(max_examples=300, deadline=None)
@given(text=texts, limit=st.integers(0, 3000), keep_end=st.booleans())
def test_escape_within_respects_the_limit(text, limit, keep_end):
    out = escape_within(text, limit, keep_end=keep_end)
    assert len(out) <= limit
    if len(escape(text)) <= limit:
        assert out == escape(text)
    elif limit > 0:
        assert "…" in out


cards = st.fixed_dictionaries(
    {
        "heldout_loss_nats": st.floats(0, 10),
        "heldout_loss_bits": st.floats(0, 15),
        "created_at": st.text(max_size=40),
        "network": st.fixed_dictionaries(
            {
                "layers": st.integers(1, 4),
                "units": st.integers(1, 2048),
                "vocab_size": st.integers(),
            }
        ),
        "corpus": st.fixed_dictionaries({"chars": st.integers(0), "name": texts}),
        "training": st.fixed_dictionaries({"epochs_run": st.integers(0, 1000)}),
        "training_seconds": st.floats(0, 1e7),
    }
)


@settings(max_examples=100, deadline=None)
@given(card=cards, sample=texts, base=st.none() | st.text(max_size=32))
def test_model_embeds_fit_discords_limits(card, sample, base):
    from bot.registry import ModelRecord
    from cogs.models.embeds import PAGE_SIZE, card_embed, list_page
    from fake_discord.rules import check_message

    record = ModelRecord(1, "a" * 32, 5, 2**63 - 1, base, "ready", card, "/x", "9" * 40)
    embeds = [card_embed(record, sample), list_page([record] * 30, 1, {record.name})]
    embeds.append(list_page([record] * PAGE_SIZE, 0, set()))
    for embed in embeds:
        problems = check_message({"embeds": [embed.to_dict()]})
        assert problems.errors == []


def test_a_duration_never_shows_zero_for_a_moment_that_is_not_zero():
    """Waits, ETAs, "ago" and training times round up: 0.4 s is "1 s", not "0 s"."""
    from bot.formatting import duration

    assert [duration(s) for s in (0.4, 1.0, 59.2, 61, 3599.5)] == [
        "1 s",
        "1 s",
        "1 min 00 s",
        "1 min 01 s",
        "1 h 00 min",
    ]
    assert (duration(0), duration(None)) == ("0 s", "?")

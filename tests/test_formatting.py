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

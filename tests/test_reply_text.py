"""A reply is read back exactly from what Discord shows, and Continue never edits a reply
past Discord's limits (properties over any text)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.formatting import FOOTER_LIMIT, MESSAGE_LIMIT, generated_message
from cogs.writing.reply_buttons import ContinueButton, RegenerateButton, reply_view
from cogs.writing.reply_text import (
    ATTACHMENT,
    ReplyState,
    Unreadable,
    fits_whole,
    is_writing,
    parse_whole,
    read_reply,
    text_so_far,
    word_start,
)
from cogs.writing.writer import _grows_within_limits
from fake_discord.rules import check_message

WORST = "_*~`|\\>#-[]()<@&!:.\n "
chars = st.sampled_from(WORST) | st.characters()
texts = st.text(alphabet=chars, max_size=1500)
seeds = st.text(alphabet=chars, min_size=1, max_size=500)
links = st.sampled_from(["http://a.b/x_y", "https://e.x/a\\b*c", "<http://q.r/s_t>", ""])
footers = st.text(alphabet=chars, max_size=FOOTER_LIMIT).filter(lambda f: "\n-# " not in f)


@settings(max_examples=300, deadline=None)
@given(seed=seeds, text=texts, link=links, footer=footers)
def test_a_whole_reply_reads_back_exactly(seed, text, link, footer):
    text = text + link  # links are left unescaped by Discord's escaping
    content = fits_whole(seed, text, footer)
    if content is None:  # too long, or not readable back: the reply attaches the text
        return
    assert len(content) <= MESSAGE_LIMIT
    assert parse_whole(content, len(seed)) == (seed, text)
    assert parse_whole(content) == (seed, text)  # without its buttons too


@settings(max_examples=300, deadline=None)
@given(seed=seeds, text=texts, link=links, footer=footers)
def test_a_whole_reply_reads_back_without_its_buttons(seed, text, link, footer):
    """Where the seed ends is found without the custom id's seed length (a reply that lost
    its buttons), even when the seed ends with a link."""
    seed = seed + link
    content = fits_whole(seed, text, footer)
    if content is not None:
        assert parse_whole(content) == (seed, text)


def test_a_link_with_a_backslash_is_not_taken_for_whole():
    """Discord's escaping leaves links as they are, so such a text can't be read back from
    the content: the reply attaches it instead."""
    assert fits_whole("See ", "https://e.x/a\\b", "f") is None
    assert fits_whole("See ", "https://e.x/a_b", "f") is not None


class Attachment:
    def __init__(self, filename: str, data: bytes):
        self.filename, self.data = filename, data

    async def read(self) -> bytes:
        return self.data


class Message:
    def __init__(self, content: str, attachments=()):
        self.content, self.attachments = content, list(attachments)


async def test_a_preview_is_read_from_its_attachment():
    """A preview reads like a whole text ending in "…": the attachment decides."""
    seed, text = "The", "x" * 3000
    content, whole = generated_message(seed, text, "footer · full text attached")
    found = parse_whole(content, len(seed))
    assert not whole and found is not None and found[1].endswith("…") and found[1] != text
    state = ReplyState(1, "basic", 0.5, 3000, 1.0, len(seed))
    reply = await read_reply(
        Message(content, [Attachment(ATTACHMENT, (seed + text).encode())]), state
    )
    assert (reply.seed, reply.text, reply.whole) == (seed, text, False)
    with pytest.raises(Unreadable):  # a file that is not this reply's text
        await read_reply(Message(content, [Attachment(ATTACHMENT, b"The other")]), state)
    whole_content = fits_whole(seed, "abc", "footer")
    reply = await read_reply(Message(whole_content), state)
    assert (reply.seed, reply.text, reply.whole) == (seed, "abc", True)
    with pytest.raises(Unreadable):
        await read_reply(Message("hello"), state)


@pytest.mark.parametrize("seed", ["The", "*_" * 300 + "The end"])  # the second one is cut
async def test_a_preview_without_buttons_is_read_from_its_attachment(seed):
    """Without the buttons' seed length, where the seed ends is found in the preview (all of
    the seed in bold, or its end after "…") and checked against the attached text."""
    text = "x" * 3000
    content, _ = generated_message(seed, text, "footer · full text attached")
    reply = await read_reply(Message(content, [Attachment(ATTACHMENT, (seed + text).encode())]))
    assert (reply.seed, reply.text) == (seed, text)


@pytest.mark.parametrize("seed, text", [("The", "cat sat"), ("*_" * 300 + "The end", "x" * 3000)])
def test_the_text_so_far_of_a_reply_left_mid_write(seed, text):
    """What a reply left mid-write shows: all of it, or (a preview) the end of the seed and
    the start of the text, without the "…" marks."""
    content, whole = generated_message(seed, text, "m · temperature 0.5 · writing…", cursor=True)
    shown_seed, shown_text = text_so_far(content, ReplyState(1, "m", 0.5, 9, 1.0, len(seed)))
    if whole:
        assert (shown_seed, shown_text) == (seed, text)
    else:
        assert seed.endswith(shown_seed) and text.startswith(shown_text) and shown_text
    assert text_so_far(generated_message(seed, text, "m · 3 characters")[0], None) is None


def test_a_reply_being_written_is_told_apart():
    writing, _ = generated_message("The", "cat", "m · temperature 0.5 · yazıyor…", cursor=True)
    done, _ = generated_message("The", "cat ▌", "m · temperature 0.5 · 4 characters")
    assert is_writing(writing) and not is_writing(done) and not is_writing("hello ▌\n-# x")


@settings(max_examples=300, deadline=None)
@given(
    seed=seeds,
    text=texts,
    new=st.text(alphabet=chars, min_size=1, max_size=1000),
    old=footers,
    footer=footers,
)
def test_continue_grows_a_reply_only_within_the_limits(seed, text, new, old, footer):
    """When Continue decides to grow a reply, the grown reply fits, whatever it writes."""
    content = fits_whole(seed, text, old)
    if content is None or not _grows_within_limits(content, len(new)):
        return
    grown, whole = generated_message(seed, text + new, footer)
    assert whole and len(grown) <= MESSAGE_LIMIT


@given(
    model=st.integers(1, 2**63 - 1),
    name=st.from_regex(r"[a-z0-9][a-z0-9_-]{1,31}", fullmatch=True),
    temperature=st.floats(0, 2),
    length=st.integers(1, 5000),
    top_p=st.floats(0.01, 1),
    seed_length=st.integers(1, 500),
    rng=st.none() | st.integers(0, 2**31 - 1),
)
def test_the_state_fits_a_custom_id_and_comes_back(
    model, name, temperature, length, top_p, seed_length, rng
):
    state = ReplyState(model, name, temperature, length, top_p, seed_length, rng)
    view = reply_view(state, "pt-BR")
    components = [item.to_component_dict() for item in view.children]
    assert check_message({"components": [{"type": 1, "components": components}]}).errors == []
    for item, cls in zip(view.children, (ContinueButton, RegenerateButton), strict=True):
        match = cls.__discord_ui_compiled_template__.fullmatch(item.custom_id)
        assert match is not None and len(item.custom_id) <= 100
        back = ReplyState.decode(match["state"])
        assert (back.model_id, back.model_name, back.length, back.seed_length, back.rng_seed) == (
            model,
            name,
            length,
            seed_length,
            rng,
        )
        assert abs(back.temperature - temperature) < 1e-4 and abs(back.top_p - top_p) < 1e-4


def test_a_cut_text_starts_at_a_word():
    assert word_start("lo world, and more") == "world, and more"
    assert word_start("unbroken") == "unbroken"

import numpy as np
import pytest

from model_store import Charset, CorpusError
from model_store.corpus import SLICE_CHARS, decode_corpus, normalize_text, split_heldout


def test_charset_round_trip_and_stable_order():
    cs = Charset.from_text("banana split!")
    assert cs.chars == tuple(sorted(set("banana split!")))
    assert cs.decode(cs.encode("banana").ids) == "banana"
    again = Charset.from_json(cs.to_json())
    assert again == cs
    assert Charset.from_text("split banana!") == cs  # order does not depend on the text order


def test_unknown_characters_are_dropped_and_reported():
    cs = Charset.from_text("abc ")
    enc = cs.encode("a☃b€ c☃")
    assert cs.decode(enc.ids) == "ab c"
    assert enc.unknown == ("€", "☃")


def test_extend_keeps_existing_ids_and_appends_sorted():
    cs = Charset.from_text("hello")
    grown = cs.extend("héllo ç")
    assert grown.chars[: len(cs)] == cs.chars
    assert grown.chars[len(cs) :] == (" ", "ç", "é")
    assert cs.extend("hello") == cs


def test_decode_corpus_rejects_bad_input():
    with pytest.raises(CorpusError, match="empty"):
        decode_corpus(b"   \n ")
    with pytest.raises(CorpusError, match="binary"):
        decode_corpus(b"abc\x00def" * 500)
    with pytest.raises(CorpusError, match="not UTF-8"):
        decode_corpus("caf\u00e9 ".encode("latin-1") * 500)
    with pytest.raises(CorpusError, match="too short"):
        decode_corpus(b"just a few words")
    with pytest.raises(CorpusError, match="unprintable"):
        decode_corpus(bytes(range(1, 32)) * 100)


def test_normalisation_and_split():
    decomposed = "cafe\u0301\r\n"
    assert normalize_text(decomposed) == "caf\u00e9\n"
    train, held = split_heldout("x" * 90 + "y" * 10)
    assert train == "x" * 90 and held == "y" * 10


# French dialogue set with non-breaking spaces, and emoji joined with zero-width joiners:
# Python calls these characters "not printable", yet they are honest text.
HONEST = (
    "«\u00a0Oui\u00a0!\u00a0» dit-elle\u00a0; «\u00a0Non\u00a0?\u00a0» 👩\u200d💻👨\u200d🍳\n"
    "Il répond\u00a0: «\u00a0Peut-être.\u00a0»\n"
)


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: t.encode("utf-8"),
        lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"),  # UTF-8 with BOM (Notepad's "UTF-8 BOM")
        lambda t: t.encode("utf-16"),  # UTF-16 with BOM, native order (Notepad's "Unicode")
        lambda t: b"\xfe\xff" + t.encode("utf-16-be"),  # "Unicode big endian"
        lambda t: b"\xff\xfe" + t.encode("utf-16-le"),
    ],
    ids=["utf8", "utf8-bom", "utf16", "utf16-be", "utf16-le"],
)
def test_decode_corpus_accepts_what_editors_save(encode):
    text = (HONEST * 40)[:2000]
    assert decode_corpus(encode(text), min_chars=2000) == text


@pytest.mark.parametrize(
    "data, words",
    [
        ("Hello there. ".encode("utf-16-le") * 200, ["UTF-16 without a byte-order mark", "UTF-8"]),
        ("Café crème. ".encode("cp1252") * 200, ["not UTF-8", "0xE9", "save it as UTF-8"]),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 200, ["binary", ".txt"]),
        (b"\xff\xfe" + b"\x00\xd8" * 2000, ["UTF-16", "damaged", "UTF-8"]),
        (b"a" * 6000, ["only one distinct character", "'a'"]),
        ("\u00a0\n".encode() * 10, ["empty"]),
    ],
    ids=["utf16-no-bom", "cp1252", "png", "broken-utf16", "one-char", "blank"],
)
def test_decode_corpus_names_the_problem_and_the_fix(data, words):
    with pytest.raises(CorpusError) as info:
        decode_corpus(data, what="The file", min_chars=10)
    for word in words:
        assert word in str(info.value), str(info.value)


def test_honest_small_text_at_the_minimum_is_accepted():
    text = (HONEST * 100)[:1000]
    assert decode_corpus(text.encode(), min_chars=1000) == text
    with pytest.raises(CorpusError, match=r"999 characters; at least 1,000"):
        decode_corpus(text[:999].encode(), min_chars=1000)


class StopAfter:
    """A ``stop()`` that says stop once it has been asked ``times`` times."""

    def __init__(self, times: int):
        self.times, self.asked = times, 0

    def __call__(self) -> bool:
        self.asked += 1
        return self.asked > self.times


def test_a_big_text_is_decoded_and_encoded_in_slices_that_a_cancel_stops():
    from model_store.errors import TrainingCancelled

    from .textgen import make_text

    text = make_text(3 * SLICE_CHARS, seed=1) + " é"
    never = StopAfter(10**9)
    assert decode_corpus(text.encode(), stop=never) == text
    assert never.asked >= 3  # between slices, not only before and after
    with pytest.raises(TrainingCancelled):
        decode_corpus(text.encode(), stop=StopAfter(1))

    charset = Charset.from_text(text)
    never = StopAfter(10**9)
    ids = charset.ids(text, stop=never)
    assert ids.dtype == np.int32 and (ids == charset.encode(text).ids).all()
    assert never.asked >= 3
    with pytest.raises(TrainingCancelled):
        charset.ids(text, stop=StopAfter(2))
    grown = Charset.from_text("zy").extend(text)  # a fine-tuned charset: not in code-point order
    assert (grown.ids(text) == grown.encode(text).ids).all()
    with pytest.raises(ValueError):
        Charset.from_text("ab").ids("abc")

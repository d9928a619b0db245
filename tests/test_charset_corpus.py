import pytest

from model_store import Charset, CorpusError
from model_store.corpus import decode_corpus, normalize_text, split_heldout


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

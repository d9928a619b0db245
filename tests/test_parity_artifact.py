import json

import numpy as np
import pytest

from model_store import ArtifactError, ModelStore, load_artifact
from model_store.lstm import NumpyLSTM


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.slow  # imports Keras
def test_numpy_step_matches_keras(tiny_model):
    """The numpy generator's next-character distribution equals the Keras model's."""
    from model_store.network import build_model, set_weights

    art = tiny_model.artifact
    model = build_model(art.config)
    set_weights(model, art.config, art.weights)
    ids = art.charset.encode("The old man remembers the garden. A dog sees").ids[None, :]
    keras_probs = _softmax(np.asarray(model(ids, training=False)))[0]
    numpy_lstm = NumpyLSTM(art.config, art.weights)
    state = numpy_lstm.initial_state(1)
    for t, token in enumerate(ids[0]):
        logits, state = numpy_lstm.step(np.array([token]), state)
        assert np.abs(_softmax(logits[0]) - keras_probs[t]).max() <= 1e-4


def test_save_load_round_trip(tmp_path, tiny_model):
    store = ModelStore(tmp_path)
    path = store.save(tiny_model.artifact)
    assert sorted(p.name for p in path.iterdir()) == ["card.json", "charset.json", "weights.npz"]
    loaded = store.load("tiny")
    assert loaded.charset == tiny_model.artifact.charset
    for name, value in tiny_model.artifact.weights.items():
        # Stored as float16; training already rounded the weights it reports on.
        assert loaded.weights[name].dtype == np.float32
        np.testing.assert_array_equal(loaded.weights[name], value)
    assert (path / "weights.npz").stat().st_size < 2.2 * sum(
        v.size for v in tiny_model.artifact.weights.values()
    ) + 4096
    card = loaded.card
    for key in (
        "heldout_loss_nats",
        "corpus",
        "training",
        "versions",
        "created_at",
        "checksums",
        "training_seconds",
        "network",
    ):
        assert key in card
    assert store.names() == ["tiny"]


def test_failed_save_leaves_nothing_visible(tmp_path, tiny_model, monkeypatch):
    store = ModelStore(tmp_path)

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("model_store.store.os.rename", boom)
    with pytest.raises(OSError):
        store.save(tiny_model.artifact)
    assert store.names() == []
    assert list(tmp_path.iterdir()) == []  # the staging directory was removed too


def test_existing_name_is_not_overwritten(tmp_path, tiny_model):
    store = ModelStore(tmp_path)
    store.save(tiny_model.artifact)
    with pytest.raises(Exception, match="already exists"):
        store.save(tiny_model.artifact)


@pytest.mark.parametrize(
    "damage, message",
    [
        (
            lambda p: (p / "weights.npz").write_bytes((p / "weights.npz").read_bytes()[:500]),
            "weights.npz does not match its checksum",
        ),
        (lambda p: (p / "card.json").write_text("{not json"), "card.json is not valid JSON"),
        (lambda p: (p / "charset.json").unlink(), "charset.json is missing"),
        (lambda p: (p / "charset.json").write_text('{"chars": ["a"]}'), "checksum"),
    ],
)
def test_corruption_is_detected_and_names_the_model(tmp_path, tiny_model, damage, message):
    store = ModelStore(tmp_path)
    path = store.save(tiny_model.artifact)
    damage(path)
    with pytest.raises(ArtifactError, match=message) as info:
        store.load("tiny")
    assert "'tiny'" in str(info.value)


def test_card_with_forged_checksums_still_checks_shapes(tmp_path, tiny_model):
    store = ModelStore(tmp_path)
    path = store.save(tiny_model.artifact)
    card = json.loads((path / "card.json").read_text())
    card["network"]["units"] = 999
    (path / "card.json").write_text(json.dumps(card))
    with pytest.raises(ArtifactError, match="wrong shape"):
        load_artifact(path)

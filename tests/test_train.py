import dataclasses

import numpy as np
import pytest

from model_store import Generator, NetworkConfig, SampleOptions, TrainConfig, evaluate_text
from model_store.lstm import NumpyLSTM
from model_store.train import TrainingCallback, TrainingCancelled, train

from .textgen import make_text

TINY = NetworkConfig(vocab_size=0, embedding_dim=16, units=32, layers=1, dropout=0.0)


def test_training_lowers_heldout_loss(trained_model):
    history = trained_model.history
    assert history[-1]["heldout_loss"] < history[0]["heldout_loss"] - 0.3
    card = trained_model.artifact.card
    assert card["heldout_loss_nats"] == pytest.approx(
        min(h["heldout_loss"] for h in history), abs=1e-3
    )
    # The card's number is what `evaluate` measures on the same held-out text.
    art = trained_model.artifact
    held = make_text()[int(len(make_text()) * 0.9) :]
    measured = evaluate_text(NumpyLSTM(art.config, art.weights), art.charset, held)
    assert measured.nats == pytest.approx(card["heldout_loss_nats"], abs=1e-3)


class Recorder(TrainingCallback):
    def __init__(self, stop_at_step: int | None = None):
        self.progress = []
        self.epochs = []
        self.stop_at_step = stop_at_step

    def on_progress(self, p):
        self.progress.append(p)

    def on_epoch_end(self, r):
        self.epochs.append(r)

    def should_stop(self):
        return self.stop_at_step is not None and len(self.progress) >= self.stop_at_step


def test_progress_callbacks_and_cancellation(tiny_text):
    rec = Recorder()
    train(
        tiny_text,
        "p",
        network=TINY,
        config=TrainConfig(seq_len=32, batch_size=16, epochs=2),
        callback=rec,
    )
    assert [e.epoch for e in rec.epochs] == [1, 2]
    assert all(e.sample for e in rec.epochs)
    last = rec.progress[-1]
    assert last.step == last.steps and last.chars_per_sec > 0 and last.eta_seconds == 0
    stopper = Recorder(stop_at_step=3)
    with pytest.raises(TrainingCancelled):
        train(
            tiny_text, "c", network=TINY, config=TrainConfig(seq_len=32, epochs=5), callback=stopper
        )
    assert len(stopper.progress) == 3


def test_same_seed_reproduces_and_another_seed_differs(tiny_text):
    cfg = TrainConfig(seq_len=32, batch_size=16, epochs=1, seed=11)
    a = train(tiny_text, "a", network=TINY, config=cfg).artifact
    b = train(tiny_text, "b", network=TINY, config=cfg).artifact
    for name in a.weights:
        np.testing.assert_allclose(a.weights[name], b.weights[name], atol=1e-5)
    other = dataclasses.replace(cfg, seed=12)
    c = train(tiny_text, "c", network=TINY, config=other).artifact
    assert any(np.abs(a.weights[n] - c.weights[n]).max() > 1e-3 for n in a.weights)


def test_resume_from_checkpoint(tmp_path, tiny_text):
    class PauseAfterFirst(TrainingCallback):
        def should_pause(self):
            return True

    from model_store.train import TrainingPaused

    cfg = TrainConfig(seq_len=32, batch_size=16, epochs=3, seed=2)
    with pytest.raises(TrainingPaused):
        train(
            tiny_text,
            "r",
            network=TINY,
            config=cfg,
            callback=PauseAfterFirst(),
            checkpoint_dir=tmp_path,
        )
    rec = Recorder()
    result = train(tiny_text, "r", network=TINY, config=cfg, callback=rec, checkpoint_dir=tmp_path)
    assert [e.epoch for e in rec.epochs] == [2, 3]  # epoch 1 was not redone
    assert [h["epoch"] for h in result.history] == [1, 2, 3]


def test_finetune_grows_charset_keeps_old_and_learns_new(tiny_model):
    base = tiny_model.artifact
    new_text = make_text(6000, seed=3, extra=" à été ñ")
    old_held = make_text()[int(8000 * 0.9) :]
    before = evaluate_text(NumpyLSTM(base.config, base.weights), base.charset, old_held).nats
    result = train(
        new_text,
        "tuned",
        base=base,
        config=TrainConfig(seq_len=32, batch_size=8, epochs=5, learning_rate=1e-2),
    )
    tuned = result.artifact
    # Known characters keep their ids; the new ones are appended.
    assert tuned.charset.chars[: len(base.charset)] == base.charset.chars
    assert {"à", "é", "ñ"} <= set(tuned.charset.chars[len(base.charset) :])
    assert tuned.card["base_model"] == "tiny" and tuned.card["corpus"]["new_chars"] >= 3
    # Old behaviour kept: the old text is still predicted well.
    after = evaluate_text(NumpyLSTM(tuned.config, tuned.weights), tuned.charset, old_held).nats
    assert after < before + 0.3
    assert after < 2.0
    # ... and the new characters are generated.
    text = Generator(tuned).generate(
        "The cat sees the moon", SampleOptions(temperature=0.3, length=300, rng_seed=1)
    )[0]
    assert any(c in text for c in "àéñ")


def test_finetune_initial_state_preserves_base_predictions(tiny_model):
    from model_store.network import grow_vocabulary

    base = tiny_model.artifact
    grown = grow_vocabulary(base.weights, len(base.charset) + 3, np.random.default_rng(0))
    old = NumpyLSTM(base.config, base.weights)
    cfg = NetworkConfig.from_dict({**base.config.to_dict(), "vocab_size": len(base.charset) + 3})
    new = NumpyLSTM(cfg, grown)
    ids = base.charset.encode("The cat sees").ids
    a, _ = old.prime(ids)
    b, _ = new.prime(ids)
    np.testing.assert_allclose(a[0], b[0, : len(base.charset)], atol=1e-5)


def test_backend_check_matches_the_numpy_evaluator(trained_model):
    """The per-epoch check (Keras backend, batched pieces) and the numpy evaluator (the card's
    and `lstm-bot evaluate`'s figure) measure the same thing: within 0.01 nats/char."""
    from model_store.corpus import split_heldout
    from model_store.evaluate import evaluate_ids
    from model_store.network import build_model, set_weights
    from model_store.train import HeldoutCheck

    art = trained_model.artifact
    ids = art.charset.encode(split_heldout(make_text())[1]).ids
    model = build_model(art.config)
    set_weights(model, art.config, art.weights)
    model.compile(loss=keras_loss())
    numpy_loss = evaluate_ids(NumpyLSTM(art.config, art.weights), ids)[0]
    assert HeldoutCheck(model, ids, None)() == pytest.approx(numpy_loss, abs=0.01)
    # A bounded check reads fewer characters but the same kind of pieces.
    long_ids = np.tile(ids, 30)
    bounded = HeldoutCheck(model, long_ids, 10_000)
    assert bounded.chars <= 10_000 and bounded.x.shape[1] >= 1999
    assert bounded() == pytest.approx(
        evaluate_ids(NumpyLSTM(art.config, art.weights), long_ids)[0], abs=0.05
    )
    # In a real run: the best epoch's check (float32 weights) vs the card (float16-rounded).
    best = min(h["heldout_loss"] for h in trained_model.history)
    assert trained_model.artifact.card["heldout_loss_nats"] == pytest.approx(best, abs=0.01)


def keras_loss():
    from model_store.network import keras

    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def test_nan_loss_stops_training_at_once(tiny_text):
    from model_store import TrainingDiverged

    rec = Recorder()
    with pytest.raises(TrainingDiverged, match="diverged"):
        train(
            tiny_text,
            "boom",
            network=TINY,
            config=TrainConfig(seq_len=32, batch_size=16, epochs=3, learning_rate=1e38),
            callback=rec,
        )
    assert rec.epochs == [] and len(rec.progress) < 20  # stopped in the first epoch


@pytest.mark.parametrize("text", ["a" * 5000, "\n" * 3000])
def test_one_distinct_character_is_a_clear_corpus_error(tiny_model, text):
    from model_store import CorpusError

    for base in (None, tiny_model.artifact):
        with pytest.raises(CorpusError, match="only one distinct character"):
            train(text, "mono", network=TINY, base=base, config=TrainConfig(epochs=1))


def test_steps_per_epoch_and_many_passes_over_a_short_text(tiny_text):
    rec = Recorder()
    result = train(
        tiny_text[:3000],
        "short",
        network=TINY,
        config=TrainConfig(seq_len=32, batch_size=16, epochs=3, steps_per_epoch=20),
        callback=rec,
    )
    assert [e.epoch for e in rec.epochs] == [1, 2, 3]
    assert all(p.steps == 20 for p in rec.progress) and len(rec.progress) == 60
    training = result.artifact.card["training"]
    assert training["steps_run"] == 60 and training["passes"] > 10
    assert all(e.after_seconds > 0 and e.step_seconds > 0 for e in rec.epochs)
    assert result.artifact.card["uniform_loss_nats"] == pytest.approx(
        np.log(len(result.artifact.charset)), abs=1e-4
    )


def test_a_small_upload_at_normal_effort_learns(tiny_model):
    """Issue 9: a fine-tune on a few thousand characters at "normal" effort ends below both its
    base's held-out loss and a uniform guess (it used to run one step an epoch)."""
    from model_store.backend import CPU
    from model_store.outcome import Outcome
    from worker.params import parse_params

    text = make_text(7000, seed=3, extra=" à été ñ")
    config = parse_params({"effort": "normal"}).recipe(len(text), CPU).train
    result = train(text, "small", base=tiny_model.artifact, config=config)
    outcome = Outcome.from_card(result.artifact.card)
    assert outcome.base is not None and outcome.learned, outcome
    # It learns the text, not just its new characters (the old budget: 1.48 against 1.70).
    assert outcome.loss < outcome.base / 2


def test_the_checked_in_tiny_model_is_what_its_script_trains(tiny_model, trained_model):
    """tests/data/tiny_model is regenerated by ``python -m tests.make_tiny_model``: same
    network, characters and recipe (weights may differ in the last bits across machines)."""
    kept, fresh = tiny_model.artifact, trained_model.artifact
    assert kept.config == fresh.config and kept.charset.chars == fresh.charset.chars
    assert kept.card["training"] == fresh.card["training"]
    assert kept.heldout_loss == pytest.approx(fresh.heldout_loss, abs=0.1)


def test_a_cancel_while_a_big_text_is_prepared_stops_between_slices():
    from model_store.corpus import SLICE_CHARS
    from model_store.train import prepare

    text = make_text(3 * SLICE_CHARS, seed=2)
    asked = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 2  # during the encoding of the training text

    with pytest.raises(TrainingCancelled):
        prepare(text, TINY, TrainConfig(), None, stop=stop)
    assert len(asked) == 3

"""One epoch of a /train job's fine-tuning, timed: for comparing devices (CPU here, a GPU there).

Fine-tunes the default model on a corpus with the training configuration a ``/train`` job of
the given effort gets from the worker on this device (``worker.params``), for one pass, and
prints the device, the Keras backend, characters/s, the epoch's wall time and the held-out
loss before and after. The same script runs on any Keras backend:

    .venv/bin/python benchmarks/finetune_epoch.py --corpus ../shared/corpora/dom_casmurro_pt.txt
    KERAS_BACKEND=jax python benchmarks/finetune_epoch.py --corpus .gpu/dom_casmurro_pt.txt
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model_store import ModelStore  # noqa: E402
from model_store.backend import configure, describe_device  # noqa: E402
from model_store.corpus import read_corpus  # noqa: E402
from model_store.store import BUILTIN_DIR, DEFAULT_MODEL  # noqa: E402
from worker.params import make_params, parse_params  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--effort", default="normal")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow intra-op threads")
    args = parser.parse_args()
    configure(threads=args.threads)
    from model_store.backend import training_device
    from model_store.train import TrainingCallback, train

    plan = parse_params(make_params(args.effort))
    base = ModelStore(BUILTIN_DIR, read_only=True).load(DEFAULT_MODEL)
    text = read_corpus(args.corpus)
    sized = plan.recipe(len(text), training_device()).train
    config = dataclasses.replace(sized, epochs=1, steps_per_epoch=None)  # one pass

    class Rate(TrainingCallback):
        """Also times the steps after the first (whose time includes compiling the step)."""

        last = None
        first_done = None
        last_done = None

        def on_progress(self, p):  # noqa: ANN001
            self.last = p
            now = time.perf_counter()
            if p.step == 1:
                self.first_done = now
            self.last_done = now

    rate = Rate()
    started = time.perf_counter()
    result = train(text, "finetune-check", base=base, config=config, callback=rate)
    wall = time.perf_counter() - started
    card = result.artifact.card
    import keras

    print(
        f"device: {describe_device()}  backend: {keras.backend.backend()} "
        f"(keras {keras.__version__})"
    )
    print(
        f"corpus: {Path(args.corpus).name}, {len(text):,} characters, "
        f"{card['corpus']['new_chars']} new characters"
    )
    print(
        f"config: {config.batch_size} x {config.seq_len} characters a step, "
        f"{rate.last.steps} steps, network {base.config.layers}x LSTM({base.config.units})"
    )
    step_chars = config.batch_size * config.seq_len
    steady = (rate.last.steps - 1) * step_chars / (rate.last_done - rate.first_done)
    print(
        f"one epoch: {rate.last.chars_per_sec:,.0f} characters/s over all steps, "
        f"{steady:,.0f} characters/s after the first step (which includes compilation); "
        f"{wall:.1f} s wall including start-up, evaluation and sampling"
    )
    print(
        f"held-out loss: {card['base_heldout_loss_nats']:.3f} before -> "
        f"{card['heldout_loss_nats']:.3f} nats/char after one epoch"
    )


if __name__ == "__main__":
    main()

"""A fine-tune on a small upload at a /train effort: does it learn, and how long does it take?

Takes ``--chars`` characters of a corpus (from ``--offset``), fine-tunes the default model on
them exactly as a ``/train`` job of ``--effort`` would on this machine's device (the worker's
``TrainingPlan.recipe`` and ``train()``), and prints the held-out loss next to the base model's
and a uniform guess, the steps and passes run, and the wall time.

    .venv/bin/python benchmarks/finetune_small.py --corpus ../shared/corpora/alice.txt
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model_store import ModelStore  # noqa: E402
from model_store.backend import configure  # noqa: E402
from model_store.corpus import read_corpus  # noqa: E402
from model_store.outcome import Outcome  # noqa: E402
from model_store.store import BUILTIN_DIR, DEFAULT_MODEL  # noqa: E402
from worker.params import parse_params  # noqa: E402

TARGET_SECONDS = 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--chars", type=int, default=7000)
    parser.add_argument("--offset", type=int, default=10_000, help="skip the front matter")
    parser.add_argument("--effort", default="normal")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow intra-op threads")
    args = parser.parse_args()
    configure(threads=args.threads)
    from model_store.backend import training_device
    from model_store.train import train

    text = read_corpus(args.corpus)[args.offset : args.offset + args.chars]
    base = ModelStore(BUILTIN_DIR, read_only=True).load(DEFAULT_MODEL)
    device = training_device()
    config = parse_params({"effort": args.effort}).recipe(len(text), device).train
    started = time.perf_counter()
    result = train(text, "small", base=base, config=config)
    wall = time.perf_counter() - started
    card = result.artifact.card
    outcome = Outcome.from_card(card)
    assert outcome is not None
    training = card["training"]
    print(f"device: {device.description}; {len(text):,} characters of {Path(args.corpus).name}")
    print(
        f"effort {args.effort}: {training['epochs_run']} epochs, {training['steps_run']} steps of "
        f"{training['batch_size']} x {training['seq_len']} characters "
        f"({training['passes']} passes over the training text), stopped: {training['stopped']}"
    )
    print(f"held-out loss: {outcome.figures()}")
    print(
        f"learned: {outcome.learned} (below base: {outcome.beats_base}, below uniform: "
        f"{outcome.beats_uniform}); {wall:.0f} s wall "
        f"[target: learned within {TARGET_SECONDS} s: "
        f"{'PASS' if outcome.learned and wall <= TARGET_SECONDS else 'MISS'}]"
    )


if __name__ == "__main__":
    main()

"""Write the tests' checked-in tiny model, ``tests/data/tiny_model/`` (needs the train extra).

``python -m tests.make_tiny_model`` trains a 2x32 LSTM for a few epochs on the tiny grammar of
:mod:`tests.textgen` (a few seconds) and saves it in the model store's artifact format. The
serving tests (the bot, generation, the console, formatting) load this model through the
``tiny_model`` fixture instead of training one, so they never import Keras. Run it again when
the artifact format or the training recipe changes; the tests that train
(``tests/test_train.py``, the worker and CLI tests) train models of their own.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from model_store import NetworkConfig, TrainConfig
from model_store.artifact import write_artifact

from .textgen import make_text

DIRECTORY = Path(__file__).resolve().parent / "data" / "tiny_model"
NAME = "tiny"
NETWORK = NetworkConfig(vocab_size=0, embedding_dim=16, units=32, layers=2, dropout=0.0)
CONFIG = TrainConfig(seq_len=32, batch_size=8, epochs=8, learning_rate=1e-2, seed=7)


def train_tiny():
    """The tiny model, trained afresh (the same recipe as the checked-in one)."""
    from model_store.train import train

    return train(make_text(), NAME, network=NETWORK, config=CONFIG)


def main() -> int:
    result = train_tiny()
    staging = DIRECTORY.with_name(DIRECTORY.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    write_artifact(staging, result.artifact)
    shutil.rmtree(DIRECTORY, ignore_errors=True)
    staging.rename(DIRECTORY)
    loss = result.artifact.heldout_loss
    print(f"wrote {DIRECTORY} (held-out loss {loss} nats/char)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

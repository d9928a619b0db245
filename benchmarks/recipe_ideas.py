"""Issue 17 (CPU part): do AdamW, a cosine schedule with warm-up, embedding dropout or longer
sequences train a better default model (2 x LSTM(192)) than the built-in recipe, on the same
budget of optimiser steps?

The ideas are tried by patching ``model_store.train`` here (the product's recipe has none of
them: none won, see ``benchmarks/README.md``). Each run trains from scratch on the corpus (or
continues the built-in model with ``--base``) for ``--steps`` steps in epochs of
``--steps-per-epoch``, and prints the held-out loss of the stored weights on the last 10% (the
numpy evaluator, as ``lstm-bot evaluate``). Compare runs of the same ``--steps`` and the same
characters a step (``--seq-len`` x ``--batch-size``).

    .venv/bin/python benchmarks/recipe_ideas.py --steps 792                # the recipe today
    .venv/bin/python benchmarks/recipe_ideas.py --steps 792 --optimizer adamw \\
        --weight-decay 0.01 --schedule cosine --warmup 0.05
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import DEFAULT_CORPUS, pin_blas_threads  # noqa: E402

pin_blas_threads(1)

from model_store.backend import configure  # noqa: E402


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    parser.add_argument("--steps", type=int, default=792, help="optimiser steps (6 passes)")
    parser.add_argument("--steps-per-epoch", type=int, default=132, help="a pass of nietzsche")
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=4e-3, help="(peak) learning rate")
    parser.add_argument("--optimizer", choices=["adam", "adamw"], default="adam")
    parser.add_argument("--weight-decay", type=float, default=0.0, help="AdamW's")
    parser.add_argument(
        "--schedule",
        choices=["plateau", "cosine"],
        default="plateau",
        help="plateau: the product's (halve on no progress); cosine: warm-up, then cosine "
        "decay to 0 over --steps",
    )
    parser.add_argument("--warmup", type=float, default=0.0, help="share of --steps")
    parser.add_argument("--dropout", type=float, default=0.15, help="between layers")
    parser.add_argument("--embedding-dropout", type=float, default=0.0)
    parser.add_argument("--base", help="continue this model directory (e.g. the built-in)")
    parser.add_argument("--save", help="save the result in this model store")
    return parser.parse_args()


def patch(args: argparse.Namespace) -> None:
    """Swap the ideas into ``model_store.train``'s build and learning-rate schedule."""
    import keras

    import model_store.train as T

    product_build_model = T.build_model

    def build_model(cfg, seq_len=None):  # noqa: ANN001, ANN202
        if args.embedding_dropout <= 0:
            return product_build_model(cfg, seq_len)
        inputs = keras.Input(shape=(seq_len,), dtype="int32", name="chars")
        x = keras.layers.Embedding(cfg.vocab_size, cfg.embedding_dim, name="embedding")(inputs)
        x = keras.layers.Dropout(args.embedding_dropout, name="embedding_dropout")(x)
        for i in range(cfg.layers):
            x = keras.layers.LSTM(cfg.units, return_sequences=True, name=f"lstm{i}")(x)
            if cfg.dropout > 0:
                x = keras.layers.Dropout(cfg.dropout, name=f"dropout{i}")(x)
        logits = keras.layers.Dense(cfg.vocab_size, name="logits")(x)
        return keras.Model(inputs, logits, name="char_lstm")

    def rate(step: int) -> float:
        progress, warm = step / args.steps, args.warmup
        if warm > 0 and progress < warm:
            return args.lr * (step + 1) / (warm * args.steps)
        return args.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, (progress - warm) / (1 - warm))))

    def build(data, config, learning_rate):  # noqa: ANN001, ANN202
        model = build_model(data.network)
        if data.base_weights is not None:
            T.set_weights(model, data.network, data.base_weights)
        if args.optimizer == "adamw":
            optimizer = keras.optimizers.AdamW(
                learning_rate=args.lr, weight_decay=args.weight_decay, clipnorm=config.clipnorm
            )
        else:
            optimizer = keras.optimizers.Adam(learning_rate=args.lr, clipnorm=config.clipnorm)
        model.compile(
            optimizer=optimizer,
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        if args.schedule == "cosine":
            step_once, done = model.train_on_batch, [0]

            def train_on_batch(x, y, **kw):  # noqa: ANN001, ANN003, ANN202
                model.optimizer.learning_rate.assign(rate(done[0]) + 1e-7)
                done[0] += 1
                return step_once(x, y, **kw)

            model.train_on_batch = train_on_batch
        return model

    def keep_best(run, heldout: float) -> bool:  # noqa: ANN001
        """The product's schedule without its halving (the cosine sets the rate)."""
        state = run.state
        improved = heldout < state.best_loss - 1e-4
        if improved:
            state.best_loss, state.stale = heldout, 0
            state.best_weights = T.get_weights(run.model, run.plan.data.network)
        else:
            state.stale += 1
        return improved

    T.build_model, T.build = build_model, build
    if args.schedule == "cosine":
        T.schedule = keep_best


def main() -> None:
    args = arguments()
    configure(threads=1)
    patch(args)
    from model_store import ModelStore, NetworkConfig, TrainConfig
    from model_store.corpus import read_corpus
    from model_store.train import TrainingCallback, train

    class Epochs(TrainingCallback):
        def on_epoch_end(self, r) -> None:  # noqa: ANN001
            print(f"epoch {r.epoch}: loss {r.loss:.4f}, held-out check {r.heldout_loss:.4f}")

    text = read_corpus(args.corpus)
    base = None
    if args.base:
        path = Path(args.base)
        base = ModelStore(path.parent, read_only=True).load(path.name)
    config = TrainConfig(
        seq_len=args.seq_len,
        batch_size=args.batch_size,
        learning_rate=args.lr if base is None else 2 * args.lr,  # train() halves it for a base
        epochs=math.ceil(args.steps / args.steps_per_epoch),
        steps_per_epoch=args.steps_per_epoch,
        patience=3 if args.schedule == "plateau" else 1000,
        eval_chars=40_000,
        sample_length=20,
    )
    started = time.perf_counter()
    result = train(
        text,
        "ideas",
        network=NetworkConfig(vocab_size=0, dropout=args.dropout),
        config=config,
        base=base,
        callback=Epochs(),
    )
    card = result.artifact.card
    figures = {
        "heldout_nats": card["heldout_loss_nats"],
        "base_heldout_nats": card["base_heldout_loss_nats"],
        "steps": card["training"]["steps_run"],
        "seconds": round(time.perf_counter() - started),
        "stopped": result.stopped,
    }
    print("RESULT", json.dumps({**vars(args), **figures}))
    if args.save:
        ModelStore(args.save).save(result.artifact, overwrite=True)


if __name__ == "__main__":
    main()

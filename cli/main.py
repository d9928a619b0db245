"""The ``lstm-bot`` command line: models (train, generate, evaluate, models) and the bot.

Every failure the user can cause exits non-zero with one ``error:`` line, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.settings import Settings, SettingsError, load_settings
from jobs.errors import JobQueueError
from model_store import (
    DEFAULT_MODEL,
    ModelCatalog,
    ModelStoreError,
    NetworkConfig,
    SampleOptions,
    TrainConfig,
)
from model_store.backend import Device
from model_store.corpus import read_corpus
from model_store.outcome import Outcome
from model_store.recipe import DEFAULT_EFFORT, DEFAULT_PRESET, EFFORTS, PRESETS, Recipe, recipe


def _catalog(settings: Settings, store: str | None = None) -> ModelCatalog:
    return ModelCatalog(Path(store) if store else settings.model_path)


NETWORK_FLAGS = {
    "units": "units",
    "layers": "layers",
    "embedding": "embedding_dim",
    "dropout": "dropout",
}
TRAIN_FLAGS = {
    "seq_len": "seq_len",
    "batch_size": "batch_size",
    "lr": "learning_rate",
    "patience": "patience",
    "seed": "seed",
    "steps_per_epoch": "steps_per_epoch",
}


def _given(args: argparse.Namespace, flags: dict[str, str]) -> dict:
    values = {field: getattr(args, flag) for flag, field in flags.items()}
    return {field: value for field, value in values.items() if value is not None}


def train_recipe(args: argparse.Namespace, chars: int, device: Device) -> Recipe:
    """The recipe of ``lstm-bot train`` for a text of ``chars`` characters: the one
    :func:`~model_store.recipe.recipe`, as ``/train`` gets it, with the options given."""
    return recipe(
        chars,
        device,
        effort=args.effort,
        preset=args.preset,
        epochs=args.epochs,
        minutes=args.minutes,
        network=_given(args, NETWORK_FLAGS),
        train=_given(args, TRAIN_FLAGS),
    )


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    from model_store.backend import configure, require_training, training_device

    require_training()
    configure(threads=args.threads)
    catalog = _catalog(settings, args.store)
    if args.overwrite:
        if catalog.is_builtin(args.name) and args.store is None:
            raise ModelStoreError(f"'{args.name}' is a built-in model")
    else:
        catalog.check_new_name(args.name)
    text = read_corpus(args.corpus)
    base = catalog.load(args.base) if args.base else None

    from model_store.train import train  # imports Keras and its backend

    from .progress import ConsoleProgress

    device = training_device()
    print(f"training on {device.description}", file=sys.stderr)
    chosen = train_recipe(args, len(text), device)
    config = chosen.train
    epoch = f"{config.steps_per_epoch} steps" if config.steps_per_epoch else "a pass"
    print(
        f"{args.effort} effort: {config.epochs} epochs of {epoch} of {config.batch_size} x "
        f"{config.seq_len} characters, at most {config.minutes:g} minutes",
        file=sys.stderr,
    )
    result = train(
        text,
        args.name,
        network=chosen.network,
        config=config,
        base=base,
        callback=ConsoleProgress(),
        checkpoint_dir=args.checkpoint_dir,
        corpus_name=Path(args.corpus).name,
    )
    path = catalog.user.save(result.artifact, overwrite=args.overwrite)
    card = result.artifact.card
    outcome = Outcome.from_card(card)
    assert outcome is not None
    training = card["training"]
    print(
        f"saved '{args.name}' to {path}: held-out loss {outcome.figures()}, "
        f"{card['heldout_loss_bits']:.3f} bits/char; {training['epochs_run']} epochs "
        f"({training['steps_run']} steps) in {card['training_seconds']:.0f} s ({result.stopped})"
    )
    if not outcome.learned:
        print(
            f"warning: '{args.name}' learned little. {outcome.shortfall()} More text, or more "
            "training (--epochs, --minutes), would help.",
            file=sys.stderr,
        )
    return 0


def cmd_generate(args: argparse.Namespace, settings: Settings) -> int:
    from model_store import Generator

    options = SampleOptions(
        temperature=args.temperature,
        length=args.length,
        top_k=args.top_k,
        top_p=args.top_p,
        stop=tuple(args.stop or ()),
        rng_seed=args.rng_seed,
    )
    if args.n < 1:
        raise ValueError("-n must be at least 1")
    artifact = _catalog(settings, args.store).load(args.model or settings.default_model)
    generator = Generator(artifact)
    unknown = artifact.charset.encode(args.seed).unknown
    if unknown and len(unknown) < len(set(args.seed)):
        print(
            f"note: dropped characters the model does not know: {''.join(unknown)!r}",
            file=sys.stderr,
        )
    if args.n == 1:
        if not args.seed:
            generator.generate(args.seed, options)  # raises the clear SeedError
        sys.stdout.write(args.seed)
        for char in generator.stream(args.seed, options):
            sys.stdout.write(char)
            sys.stdout.flush()
        sys.stdout.write("\n")
        return 0
    for i, text in enumerate(generator.generate(args.seed, options, n=args.n), 1):
        print(f"--- sample {i} ---")
        print(args.seed + text)
    return 0


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    catalog = _catalog(settings, args.store)
    for name in catalog.names():
        try:
            card = catalog.card(name)
        except ModelStoreError as exc:
            print(f"{name}  (unreadable: {exc})")
            continue
        net = card.get("network", {})
        loss = card.get("heldout_loss_nats")
        where = "built-in" if catalog.is_builtin(name) else "local"
        print(
            f"{name}  {where}  {net.get('layers')}x LSTM({net.get('units')})  "
            f"{f'{loss:.3f}' if loss is not None else '?'} nats/char  "
            f"base={card.get('base_model') or '-'}  created {card.get('created_at', '?')}"
        )
    return 0


def cmd_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from model_store import evaluate_text
    from model_store.lstm import NumpyLSTM

    artifact = _catalog(settings, args.store).load(args.model)
    text = read_corpus(args.file, min_chars=2)
    result = evaluate_text(NumpyLSTM(artifact.config, artifact.weights), artifact.charset, text)
    if result.unknown:
        print(
            f"note: {result.unknown} characters the model does not know were skipped",
            file=sys.stderr,
        )
    print(str(result))
    return 0


def setup_logging(settings: Any, *, quiet: bool = False) -> None:
    """Log to stderr (:func:`jobs.logs.setup_logging`, the worker's too); the passwords of
    the queue's and the state's URLs are masked."""
    import logging

    from jobs.logs import setup_logging as setup

    level = logging.WARNING if quiet else settings.log_level
    setup(level, settings.queue_conninfo, settings.state_conninfo)
    logging.getLogger("discord.http").setLevel(logging.WARNING)
    if quiet:
        logging.getLogger("discord").setLevel(logging.ERROR)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the bot; SIGTERM and Ctrl-C stop it cleanly (:func:`bot.client.serve`)."""
    import asyncio

    from bot.client import LSTMBot, serve

    token = settings.require_token()
    setup_logging(settings)
    if args.processes is not None:
        from bot.launcher import bot_command, launch, recommended_shards

        return launch(
            settings, args.processes, bot_command(args.env_file), lambda: recommended_shards(token)
        )
    asyncio.run(serve(LSTMBot(settings), token))
    return 0


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from bot.client import LSTMBot, sync_tree

    token = settings.require_token()
    setup_logging(settings)
    guild = sync_target(args, settings)

    async def go() -> list:
        bot = LSTMBot(settings)
        async with bot:
            await bot.login(token)
            return await sync_tree(bot, guild)

    synced = asyncio.run(go())
    where = f"guild {guild}" if guild else "globally (may take up to an hour to show)"
    print(f"synced {len(synced)} commands {where}: {', '.join(c.name for c in synced)}")
    return 0


def sync_target(args: argparse.Namespace, settings: Settings) -> int | None:
    """The guild ``sync`` registers commands in: --guild, else LSTM_BOT_TEST_GUILD_ID unless
    --global; ``None`` means globally."""
    if args.everywhere:
        return None
    return args.guild if args.guild is not None else settings.test_guild_id


def cmd_console(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from .console import run_console

    setup_logging(settings, quiet=not args.verbose)
    return asyncio.run(run_console(settings, worker=not args.no_worker))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lstm-bot", description=__doc__.splitlines()[0])
    parser.add_argument("--env-file", default=".env", help="settings file (default: .env)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_store(p: argparse.ArgumentParser) -> None:
        p.add_argument("--store", help="model directory (default: LSTM_BOT_MODEL_DIR)")

    t = sub.add_parser("train", help="train a model on a UTF-8 text file (or fine-tune one)")
    t.add_argument("corpus", help="UTF-8 text file")
    t.add_argument("--name", required=True, help="name of the new model")
    t.add_argument("--base", help="fine-tune this model instead of training from scratch")
    t.add_argument(
        "--effort",
        choices=EFFORTS,
        default=DEFAULT_EFFORT,
        help="a budget of training steps sized to the text, as /train's: "
        + "; ".join(
            f"{name}: {e.passes:g} passes, {e.min_steps}-{e.max_steps} steps, {e.minutes:g} min cap"
            for name, e in EFFORTS.items()
        )
        + f" (default {DEFAULT_EFFORT})",
    )
    t.add_argument("--epochs", type=int, help="that many passes over the text instead")
    t.add_argument(
        "--minutes",
        type=float,
        help="wall-clock cap in minutes; alone, train until it runs out (or stops improving)",
    )
    t.add_argument(
        "--preset",
        choices=PRESETS,
        default=DEFAULT_PRESET,
        help="network and recipe: "
        + "; ".join(f"{name}: {p.description}" for name, p in PRESETS.items()),
    )
    net, cfg = NetworkConfig, TrainConfig  # their defaults are the defaults here
    t.add_argument("--units", type=int, help=f"LSTM units per layer (default {net.units})")
    t.add_argument("--layers", type=int, help=f"LSTM layers (default {net.layers})")
    t.add_argument("--embedding", type=int, help=f"embedding size (default {net.embedding_dim})")
    t.add_argument("--dropout", type=float, help=f"dropout (default {net.dropout})")
    t.add_argument(
        "--seq-len",
        type=int,
        help=f"characters a sequence (default {cfg.seq_len}; shorter for a short text)",
    )
    t.add_argument(
        "--batch-size",
        type=int,
        help=f"sequences a step (default {cfg.batch_size} on a CPU, more on a GPU)",
    )
    t.add_argument(
        "--lr", type=float, help=f"learning rate (default {cfg.learning_rate}; halved to fine-tune)"
    )
    t.add_argument(
        "--patience", type=int, help=f"epochs without improvement (default {cfg.patience})"
    )
    t.add_argument(
        "--steps-per-epoch",
        type=int,
        help="optimiser steps between held-out checks (default: the effort's steps / 12, at "
        "least 10 on a CPU and 100 on a GPU; one pass with --epochs)",
    )
    t.add_argument("--seed", type=int, help=f"random seed (default {cfg.seed})")
    t.add_argument("--threads", type=int, default=1, help="TensorFlow intra-op threads")
    t.add_argument(
        "--checkpoint-dir", help="checkpoint here (run the same command again to resume)"
    )
    t.add_argument("--overwrite", action="store_true", help="replace a model of that name")
    with_store(t)

    g = sub.add_parser("generate", help="continue a seed text with a model")
    g.add_argument("--model", help=f"model name (default: {DEFAULT_MODEL})")
    g.add_argument("--seed", required=True, help="text to continue")
    g.add_argument("--temperature", type=float, default=0.5, help="0 = greedy; default 0.5")
    g.add_argument("--length", type=int, default=400, help="characters to generate")
    g.add_argument("--rng-seed", type=int, help="random seed for reproducible output")
    g.add_argument("--top-k", type=int, default=0, help="sample among the k most likely")
    g.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling threshold")
    g.add_argument("--stop", action="append", help="stop at this string (repeatable)")
    g.add_argument("-n", type=int, default=1, help="number of samples (generated as a batch)")
    with_store(g)

    m = sub.add_parser("models", help="list models, one a line, name first")
    with_store(m)

    e = sub.add_parser("evaluate", help="loss of a model on a text, in nats and bits per char")
    e.add_argument("--model", required=True)
    e.add_argument("file")
    with_store(e)
    r = sub.add_parser("run", help="run the Discord bot (needs DISCORD_TOKEN)")
    r.add_argument(
        "--processes",
        type=int,
        help="run this many bot processes on this machine, splitting the shards "
        "(LSTM_BOT_SHARD_COUNT, else Discord's recommendation, at least this many)",
    )
    s = sub.add_parser(
        "sync",
        help="register the slash commands with Discord: in LSTM_BOT_TEST_GUILD_ID when set "
        "(instant), else globally",
    )
    where = s.add_mutually_exclusive_group()
    where.add_argument("--guild", type=int, help="sync to this guild only (instant, for testing)")
    where.add_argument(
        "--global",
        dest="everywhere",
        action="store_true",
        help="sync globally even when LSTM_BOT_TEST_GUILD_ID is set",
    )
    d = sub.add_parser("db", help="the databases' schema")
    d.add_argument("action", choices=["migrate"], help="migrate: create or upgrade every schema")
    d.add_argument(
        "--post",
        action="store_true",
        help="PostgreSQL: also apply procrastinate's post-migrations (once the bot and every "
        "worker run this version; see docs/deployment.md)",
    )
    d.add_argument(
        "--from-sqlite",
        metavar="PATH",
        type=Path,
        help="then copy a single bot's SQLite state (models, their files, server settings) "
        "into LSTM_BOT_DATABASE_URL; checked, idempotent, the file kept (docs/deployment.md)",
    )
    c = sub.add_parser("console", help="offline console: the bot against a fake Discord")
    c.add_argument("--verbose", action="store_true", help="show the bot's log")
    c.add_argument(
        "--no-worker",
        action="store_true",
        help="run no training worker (by default one runs when the train extra is installed)",
    )
    try:
        from worker.cli import add_arguments as add_worker_arguments
    except ImportError:  # pragma: no cover - the worker package ships with the project
        add_worker_arguments = None
    if add_worker_arguments is not None:
        w = sub.add_parser("worker", help="run a training worker (needs the train extra)")
        add_worker_arguments(w)
    return parser


def cmd_worker(args: argparse.Namespace) -> int:
    """The worker has its own settings (nothing of Discord)."""
    from worker.cli import run as run_worker
    from worker.settings import load_worker_settings

    return run_worker(args, load_worker_settings(dotenv=Path(args.env_file)))


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from bot.db import migrate_all, move_from_sqlite

    if args.from_sqlite and not settings.state_conninfo:
        raise SettingsError("--from-sqlite needs LSTM_BOT_DATABASE_URL: where to copy to")
    for line in asyncio.run(migrate_all(settings, post=args.post)):
        print(line)
    if args.from_sqlite:
        for line in asyncio.run(move_from_sqlite(settings, args.from_sqlite)):
            print(line)
    return 0


COMMANDS = {
    "run": cmd_run,
    "sync": cmd_sync,
    "console": cmd_console,
    "db": cmd_db,
    "train": cmd_train,
    "generate": cmd_generate,
    "models": cmd_models,
    "evaluate": cmd_evaluate,
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "worker":
            return cmd_worker(args)
        settings = load_settings(dotenv=Path(args.env_file))
        return COMMANDS[args.command](args, settings)
    except (ModelStoreError, SettingsError, JobQueueError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

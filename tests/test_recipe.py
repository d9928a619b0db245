"""One training recipe (issue 15): ``lstm-bot train`` and ``/train`` get it from one function."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cli.main import build_parser, main, train_recipe
from model_store.backend import CPU, GPU
from model_store.config import NetworkConfig, TrainConfig
from model_store.recipe import EFFORTS, PRESETS, UNTIL_TIME, recipe
from worker.params import make_params, parse_params

from .textgen import make_text


def cli(*options: str):
    return build_parser().parse_args(["train", "upload.txt", "--name", "x", *options])


@pytest.mark.parametrize("device", [CPU, GPU], ids=["cpu", "gpu"])
@pytest.mark.parametrize("chars", [7_000, 300_000, 5_000_000])
def test_the_cli_and_the_worker_get_the_same_recipe(chars: int, device) -> None:
    for effort in EFFORTS:
        worker = parse_params(make_params(effort)).recipe(chars, device)
        assert train_recipe(cli("--effort", effort), chars, device) == worker
    # Without --effort, the CLI uses /train's default effort, normal.
    assert train_recipe(cli(), chars, device) == parse_params({}).recipe(chars, device)
    assert parse_params({}).effort == "normal"
    # ... and both start from the defaults of the dataclasses: the built-in model's network.
    assert train_recipe(cli(), chars, device).network == NetworkConfig(vocab_size=0)


def test_a_short_text_gets_the_effort_s_budget_on_the_command_line() -> None:
    """The old CLI ran 20 steps on 7,000 characters (one step a pass); now it gets /train's
    budget: hundreds of steps over short sequences."""
    train = train_recipe(cli(), 7_000, CPU).train
    steps = train.epochs * train.steps_per_epoch
    assert EFFORTS["normal"].min_steps <= steps <= EFFORTS["normal"].max_steps
    assert train.seq_len < TrainConfig.seq_len and train.epochs >= 5
    assert train.minutes == EFFORTS["normal"].minutes


def test_explicit_options_override_the_recipe() -> None:
    options = ["--seq-len", "64", "--batch-size", "8", "--lr", "0.01", "--units", "32"]
    options += ["--patience", "5", "--seed", "7", "--steps-per-epoch", "25", "--dropout", "0"]
    chosen = train_recipe(cli(*options), 300_000, CPU)
    train, network = chosen.train, chosen.network
    assert (train.seq_len, train.batch_size, train.learning_rate) == (64, 8, 0.01)
    assert (train.patience, train.seed, train.steps_per_epoch) == (5, 7, 25)
    assert (network.units, network.dropout, network.layers) == (32, 0.0, 2)
    # The effort's steps (10 passes of 527 steps, capped) are dealt in epochs of the size asked.
    assert train.epochs * 25 == EFFORTS["normal"].max_steps
    # --epochs: that many passes; --minutes with it: the cap.
    passes = train_recipe(cli("--epochs", "3", "--minutes", "2"), 300_000, CPU).train
    assert (passes.epochs, passes.steps_per_epoch, passes.minutes) == (3, None, 2)
    # --minutes alone: the time is the budget; the job's "minutes" means the same.
    timed = train_recipe(cli("--minutes", "24"), 300_000, CPU).train
    assert (timed.epochs, timed.minutes) == (UNTIL_TIME, 24)
    assert parse_params({"minutes": 24}).recipe(300_000, CPU).train == timed
    # A preset changes the network and the recipe; explicit options still win.
    gpu = train_recipe(cli("--preset", "gpu", "--units", "256"), 1_000_000, GPU)
    assert gpu.network.units == 256 and gpu.network.layers == PRESETS["gpu"].network["layers"]
    assert gpu.train.batch_size == 128 and gpu.train.steps_per_epoch == 200
    assert gpu == recipe(1_000_000, GPU, preset="gpu", network={"units": 256})


GREEK = str.maketrans("abcdefghiklmnoprstuvwy", "αβψδεφγηιχλμνοπρστυωςθ")


@pytest.mark.slow  # trains
@pytest.mark.slow  # trains
def test_a_small_upload_of_an_unseen_language_learns_through_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: 7,000 characters of a language the default model never saw, trained from the
    command line, learn as through /train with the same effort (quick and a small network,
    so the test stays fast; the default effort's budget is checked above)."""
    for name in [n for n in os.environ if n.startswith("LSTM_BOT_")]:
        monkeypatch.delenv(name)
    upload = tmp_path / "upload.txt"
    upload.write_text(make_text(7000, seed=5).lower().translate(GREEK), encoding="utf-8")
    small = ["--effort", "quick", "--units", "32", "--layers", "1", "--embedding", "16"]
    small += ["--dropout", "0"]
    argv = ["--env-file", str(tmp_path / "none.env"), "train", str(upload), "--name", "greek"]
    assert main([*argv, "--store", str(tmp_path / "models"), *small]) == 0
    card = json.loads((tmp_path / "models" / "greek" / "card.json").read_text())
    network = {"units": 32, "layers": 1, "embedding_dim": 16, "dropout": 0.0}
    expected = parse_params({"effort": "quick", "network": network}).recipe(7000, CPU).train
    training = card["training"]
    assert (training["seq_len"], training["batch_size"]) == (expected.seq_len, expected.batch_size)
    assert training["steps_per_epoch"] == expected.steps_per_epoch
    assert training["epochs"] == expected.epochs
    assert training["steps_run"] >= 50  # the old default: 20 steps, 2.3 nats/char
    # It learned the text: well below a uniform guess over its characters.
    assert card["heldout_loss_nats"] < card["uniform_loss_nats"] / 2


def test_the_readme_command_gives_the_built_in_model_s_recipe() -> None:
    """README, "The default model": the command that trained ``nietzsche`` still gives the
    recipe its card records (one pass an epoch, until 24 minutes or no progress)."""
    import re

    from model_store import ModelStore
    from model_store.store import BUILTIN_DIR, DEFAULT_MODEL

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    command = re.search(r"lstm-bot train \S*nietzsche\.txt (.*?)#", readme, re.S)
    assert command is not None
    options = command.group(1).replace("\\\n", " ").split()
    args = build_parser().parse_args(["train", "nietzsche.txt", *options])
    card = ModelStore(BUILTIN_DIR, read_only=True).card(DEFAULT_MODEL)
    chosen = train_recipe(args, card["corpus"]["chars"], CPU)
    for name, value in chosen.train.to_dict().items():
        if name in card["training"] and name != "sample_length":
            assert card["training"][name] == value, name
    assert chosen.train.steps_per_epoch is None  # one pass
    assert chosen.network.to_dict() == {**card["network"], "vocab_size": 0}

"""The CLI end to end, as a user runs it (subprocesses, a tiny corpus, a temporary store)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from worker.process import clean_env

TRAIN_TINY = [
    "--units",
    "16",
    "--layers",
    "1",
    "--embedding",
    "8",
    "--epochs",
    "2",
    "--seq-len",
    "32",
    "--batch-size",
    "16",
]


def run(args, cwd: Path, **kw):
    # Also for the module's fixture, set up before conftest's clearing of LSTM_BOT_*.
    env = clean_env()
    env["LSTM_BOT_DATA_DIR"] = str(cwd / "data")
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        **kw,
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from .textgen import make_text

    work = tmp_path_factory.mktemp("cli")
    (work / "corpus.txt").write_text(make_text(), encoding="utf-8")
    proc = run(["train", "corpus.txt", "--name", "tiny", *TRAIN_TINY], work)
    assert proc.returncode == 0, proc.stderr
    return work, proc


def test_train_reports_progress_and_saves(trained):
    work, proc = trained
    assert "saved 'tiny'" in proc.stdout
    assert "epoch 2:" in proc.stderr and "held-out" in proc.stderr and "sample:" in proc.stderr
    assert (work / "data" / "models" / "tiny" / "card.json").is_file()


def test_models_lists_one_a_line_name_first(trained):
    work, _ = trained
    proc = run(["models"], work)
    assert proc.returncode == 0
    names = [line.split()[0] for line in proc.stdout.splitlines()]
    assert "tiny" in names


def test_generate_is_reproducible(trained):
    work, _ = trained
    args = [
        "generate",
        "--model",
        "tiny",
        "--seed",
        "The cat",
        "--temperature",
        "0.8",
        "--length",
        "50",
        "--rng-seed",
        "4",
    ]
    a, b = run(args, work), run(args, work)
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout and a.stdout.startswith("The cat")
    assert len(a.stdout.rstrip("\n")) == len("The cat") + 50
    many = run([*args, "-n", "3"], work)
    assert many.stdout.count("--- sample") == 3


def test_evaluate_prints_nats_and_bits(trained):
    work, _ = trained
    proc = run(["evaluate", "--model", "tiny", "corpus.txt"], work)
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(r"\d+\.\d{3} nats/char \(\d+\.\d{3} bits/char\)\n", proc.stdout)


def _assert_clean_error(proc, pattern):
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and re.search(pattern, lines[0]), proc.stderr


@pytest.mark.parametrize(
    "content, pattern",
    [
        (None, "no such file"),
        (b"\x00\x01\x02binary" * 300, "binary"),
        ("caf\u00e9 au lait. ".encode("latin-1") * 200, "not UTF-8"),
        (b"", "empty"),
    ],
)
def test_train_rejects_bad_corpus_and_leaves_nothing(tmp_path, content, pattern):
    if content is not None:
        (tmp_path / "bad.txt").write_bytes(content)
    proc = run(["train", "bad.txt", "--name", "bad", *TRAIN_TINY], tmp_path)
    _assert_clean_error(proc, pattern)
    models = tmp_path / "data" / "models"
    assert not models.exists() or list(models.iterdir()) == []


def test_bad_arguments_give_one_clear_line(trained):
    work, _ = trained
    _assert_clean_error(
        run(["generate", "--model", "nope", "--seed", "x"], work), "unknown model 'nope'"
    )
    _assert_clean_error(
        run(["generate", "--model", "tiny", "--seed", "The", "--temperature", "-1"], work),
        "temperature",
    )
    _assert_clean_error(
        run(["generate", "--model", "tiny", "--seed", "☃"], work), "none of the characters"
    )
    _assert_clean_error(run(["evaluate", "--model", "nope", "corpus.txt"], work), "unknown model")
    _assert_clean_error(
        run(["train", "corpus.txt", "--name", "tiny", *TRAIN_TINY], work), "already exists"
    )
    _assert_clean_error(
        run(["train", "corpus.txt", "--name", "Bad Name!", *TRAIN_TINY], work), "invalid model name"
    )

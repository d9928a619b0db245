"""Worker pieces in-process: params, user-readable failures, housekeeping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jobs.reasons import Reason
from jobs.records import BaseModel, Job
from jobs.sqlite import SqliteQueue
from model_store.backend import CPU, GPU
from model_store.config import TrainConfig
from model_store.recipe import EFFORTS
from worker import janitor
from worker.params import ParamsError, make_params, parse_params
from worker.settings import WorkerSettings

from ..textgen import make_text
from .procs import TINY_NETWORK


def test_params_overrides() -> None:
    plan = parse_params(
        {
            "effort": "thorough",
            "epochs": 3,
            "minutes": 2,
            "network": {"units": 16},
            "train": {"seq_len": 32},
            "corpus_name": "poems.txt",
        }
    )
    config = plan.recipe(100_000, CPU).train
    # epochs set by the job: that many passes (an epoch is one pass), and the job's cap
    assert (config.epochs, config.steps_per_epoch, config.minutes) == (3, None, 2)
    assert config.seq_len == 32
    assert plan.recipe(100_000, CPU).network.units == 16 and plan.corpus_name == "poems.txt"
    assert make_params("quick", epochs=4) == {"effort": "quick", "epochs": 4}
    for bad in (
        {"effort": "max"},
        {"epochs": 0},
        {"epochs": "5"},
        {"train": {"nope": 1}},
        {"network": []},
        {"minutes": -1},
    ):
        with pytest.raises(ParamsError):
            parse_params(bad)


def steps_and_passes(config: TrainConfig, chars: int) -> tuple[int, float]:
    steps = config.epochs * config.steps_per_epoch
    return steps, steps * config.batch_size * config.seq_len / (0.9 * chars)


def test_efforts_are_step_budgets_sized_to_the_text() -> None:
    # A 6,000-character upload gets many passes over short sequences, not one step an epoch.
    small = parse_params({"effort": "normal"}).recipe(6000, CPU).train
    steps, passes = steps_and_passes(small, 6000)
    assert small.seq_len < TrainConfig.seq_len and steps >= EFFORTS["normal"].min_steps
    assert passes >= 50 and small.epochs >= 5
    # A 5 MB upload is held to a step budget and a wall-clock cap (not hours on a CPU).
    big = parse_params({"effort": "normal"}).recipe(5_000_000, CPU).train
    steps, passes = steps_and_passes(big, 5_000_000)
    assert steps <= EFFORTS["normal"].max_steps and passes < 3
    assert big.minutes == EFFORTS["normal"].minutes and big.eval_chars
    # More effort, more steps.
    budgets = [
        steps_and_passes(parse_params({"effort": e}).recipe(300_000, CPU).train, 300_000)[0]
        for e in ("quick", "normal", "thorough")
    ]
    assert budgets == sorted(budgets) and len(set(budgets)) == 3


def test_a_gpu_gets_bigger_steps_and_longer_epochs() -> None:
    cpu = parse_params({}).recipe(400_000, CPU).train
    gpu = parse_params({}).recipe(400_000, GPU).train
    assert gpu.batch_size > cpu.batch_size
    assert gpu.steps_per_epoch >= GPU.min_epoch_steps


@pytest.fixture
def settings(tmp_path: Path) -> WorkerSettings:
    return WorkerSettings(data_dir=tmp_path / "data", lease_seconds=30)


async def run_one(queue: SqliteQueue, settings: WorkerSettings) -> None:
    from worker.runner import Worker  # imports TensorFlow

    worker = Worker(queue, settings, worker_id="t", device="CPU", progress_seconds=0.1)
    lease = await queue.claim("t")
    assert lease is not None
    await worker.process(lease)


async def submit(queue: SqliteQueue, text: str, **kw) -> Job:
    job, _ = await queue.submit(
        guild_id=1,
        channel_id=2,
        user_id=3,
        model_name=kw.pop("model_name", "x1"),
        corpus=text.encode(),
        params=kw.pop("params", {"effort": "quick"}),
        **kw,
    )
    return job


async def assert_failed_once(queue: SqliteQueue, job: Job, reason: Reason) -> None:
    """Failed at the first attempt, for ``reason``: in English and as its code."""
    failed = await queue.get(job.id)
    assert (failed.status, failed.error, failed.attempts) == ("failed", reason.english(), 1)
    assert (failed.error_code, failed.error_params) == (reason.code, reason.params)
    events = await queue.events_after(job.id)
    assert [e.kind for e in events if e.kind in {"retry", "failed"}] == ["failed"]
    assert events[-1].payload == {**reason.payload(), "attempts": 1}


@pytest.mark.slow  # the worker in-process: imports Keras
@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("missing", Reason("upload_gone")),
        (
            "short",
            Reason(
                "bad_text",
                {
                    "detail": "the text is too short to train on (100 characters)",
                    "problem": {"code": "too_short_to_split", "chars": 100},
                },
            ),
        ),
        ("base", Reason("base_damaged", {"name": "ghost"})),
        ("builtin", Reason("base_missing", {"name": "ghost"})),
        ("params", Reason("bad_settings")),
    ],
)
async def test_failures_are_final_and_readable(
    queue: SqliteQueue, settings: WorkerSettings, case: str, reason: Reason
) -> None:
    text = make_text(100 if case == "short" else 4000)
    base = {
        "base": BaseModel("ghost", files={"card.json": b"{}"}),
        "builtin": BaseModel("ghost", checksum="00" * 32),
    }.get(case)
    job = await submit(
        queue, text, base=base, params={"effort": "max" if case == "params" else "quick"}
    )
    if case == "missing":
        await queue.delete_corpus(job.id)
    await run_one(queue, settings)
    await assert_failed_once(queue, job, reason)


@pytest.mark.slow  # trains in-process
async def test_the_upload_minimum_is_the_bots_alone(
    queue: SqliteQueue, settings: WorkerSettings
) -> None:
    """A worker on another machine has no upload minimum of its own to disagree with the
    bot's: a text the bot accepted (LSTM_BOT_MIN_CORPUS_CHARS lowered there) is trained."""
    job = await submit(
        queue,
        make_text(3000),  # below the bot's default minimum (5,000)
        params={"effort": "quick", "epochs": 1, "network": TINY_NETWORK},
    )
    await run_one(queue, settings)
    done = await queue.get(job.id)
    assert done.status == "succeeded", done.error


# Data that can't be trained on, and a bug that would fail the same way every time: the job
# fails at once, once, with a sentence for the user and nothing of the exception.
UNTRAINABLE = [
    ("one-character", "a" * 6000, {"network": TINY_NETWORK}),
    ("unexpected", None, {"network": TINY_NETWORK}),
]


@pytest.mark.slow  # the worker in-process: imports Keras
@pytest.mark.parametrize(("case", "text", "extra"), UNTRAINABLE)
async def test_deterministic_failures_are_not_retried_and_leak_nothing(
    queue: SqliteQueue,
    settings: WorkerSettings,
    monkeypatch,
    caplog,
    case: str,
    text: str | None,
    extra: dict,
) -> None:
    if case == "unexpected":
        import worker.training

        def broken(*args, **kwargs):
            raise ValueError("Shapes (None, 32) and (None, 7) are incompatible: tensor blew up")

        monkeypatch.setattr(worker.training, "train", broken)
    job = await submit(
        queue,
        text or make_text(4000),
        params={"effort": "quick", "epochs": 1, "train": {"seq_len": 16}, **extra},
    )
    await run_one(queue, settings)
    failed = await queue.get(job.id)
    assert failed.status == "failed" and failed.attempts == 1, failed.error
    shown = failed.error + json.dumps([e.payload for e in await queue.events_after(job.id)])
    for raw in ("Error", "Exception", "Traceback", "Shapes", "tensor", "keras", "numpy"):
        assert raw not in shown, shown
    await assert_failed_once(
        queue,
        job,
        Reason("unexpected")
        if case == "unexpected"
        else Reason(
            "bad_text", {"detail": failed.error, "problem": {"code": "one_char", "char": "'a'"}}
        ),
    )
    assert any(r.levelname == "ERROR" and r.exc_info for r in caplog.records) or case != (
        "unexpected"
    )


@pytest.mark.slow  # trains in-process
async def test_a_diverging_run_fails_at_once_with_a_sentence(
    queue: SqliteQueue, settings: WorkerSettings
) -> None:
    job = await submit(
        queue,
        make_text(4000),
        model_name="nan1",
        params={
            "effort": "quick",
            "network": {"units": 16, "layers": 1, "embedding_dim": 8},
            "train": {"learning_rate": 1e38},
        },
    )
    await run_one(queue, settings)
    await assert_failed_once(queue, job, Reason("diverged"))
    failed = await queue.get(job.id)
    assert "nan" not in failed.error.lower() and "Traceback" not in failed.error


@pytest.mark.slow  # the worker in-process: imports Keras
async def test_transient_failures_are_retried(queue: SqliteQueue, settings, monkeypatch):
    from worker import inputs

    async def disk_trouble(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(inputs, "_corpus", disk_trouble)
    job = await submit(queue, make_text(4000))
    await run_one(queue, settings)
    retried = await queue.get(job.id)
    assert retried.status == "queued" and retried.attempts == 1
    assert (
        retried.error == "the training worker hit a temporary problem (storage, memory or network)"
    )
    assert retried.error_code == "temporary"
    assert "No space" not in retried.error


def test_janitor_sweeps_the_folders_no_live_worker_holds(settings: WorkerSettings) -> None:
    scratch = settings.scratch_path
    held = janitor.JobFolder(scratch, 1)  # a worker of this machine works on job 1
    (held.path / "corpus.txt").write_text("x")
    # job 2: its worker was killed (its job may run elsewhere now); 99: a stray folder
    for job_id in (2, 99):
        janitor.job_dir(scratch, job_id).mkdir(parents=True)
    (janitor.job_dir(scratch, 2) / janitor.LOCK_FILE).write_text("")
    janitor.sweep(scratch)
    assert (held.path / "corpus.txt").exists()
    assert not janitor.job_dir(scratch, 2).exists() and not janitor.job_dir(scratch, 99).exists()
    held.release()
    assert not held.path.exists()


@pytest.mark.slow  # worker.inputs imports Keras
def test_a_checkpoint_with_pickles_is_refused(tmp_path: Path) -> None:
    import numpy as np

    from worker.inputs import check_checkpoint

    (tmp_path / "state.json").write_text(
        json.dumps(
            {
                "epoch": 1,
                "history": [],
                "best_loss": 1.0,
                "stale": 0,
                "learning_rate": 0.01,
                "seconds": 1.0,
            }
        )
    )
    import zipfile

    with zipfile.ZipFile(tmp_path / "checkpoint.keras", "w") as archive:
        archive.writestr("config.json", "{}")
    np.savez(tmp_path / "best.npz", w=np.zeros(3, dtype=np.float32))
    check_checkpoint(tmp_path)  # sound
    np.savez(tmp_path / "best.npz", w=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        check_checkpoint(tmp_path)


@pytest.mark.slow  # model_store.train imports Keras
def test_only_newer_checkpoints_are_uploaded() -> None:
    from model_store.train import EpochEnd
    from worker.control import JobControl

    on_disk = [None]
    ctl = JobControl(0.0, {}, snapshot=lambda: on_disk[0])

    def epoch(n: int) -> None:
        ctl.on_epoch_end(EpochEnd(n, 9, 1.0, 1.0, 1.0, True, "sample", "seed", 1.0, 0.9, 0.1))

    epoch(1)  # training saved nothing yet
    assert ctl.take_checkpoint() is None
    on_disk[0] = (1, {"state.json": b"1"})
    epoch(2)  # the file on disk ends epoch 1 (saving epoch 2 was not due)
    assert ctl.take_checkpoint() == (1, {"state.json": b"1"})
    epoch(3)  # still epoch 1's: nothing new to upload
    assert ctl.take_checkpoint() is None
    on_disk[0] = (3, {"state.json": b"3"})
    epoch(4)
    assert ctl.take_checkpoint() == (3, {"state.json": b"3"})


def test_a_worker_without_a_queue_creates_none(tmp_path: Path, monkeypatch, capsys) -> None:
    from worker import cli

    monkeypatch.setattr(cli, "DATABASE_WAIT_SECONDS", 0.5)
    monkeypatch.delenv("LSTM_BOT_QUEUE_URL", raising=False)
    monkeypatch.delenv("LSTM_BOT_DATABASE", raising=False)
    monkeypatch.setenv("LSTM_BOT_DATA_DIR", str(tmp_path / "data"))
    assert cli.main(["--env-file", str(tmp_path / "none.env"), "--once"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "LSTM_BOT_QUEUE_URL" in err
    assert "lstm-bot.sqlite3" in err and not (tmp_path / "data").exists()


@pytest.mark.slow  # model_store.train imports Keras
def test_a_checkpoint_is_uploaded_when_it_pays_or_when_the_job_is_handed_back() -> None:
    from model_store.train import EpochEnd
    from worker.control import JobControl

    now = [0.0]
    ctl = JobControl(
        0.0,
        {},
        snapshot=lambda: (1, {"state.json": b"1"}),
        checkpoint_seconds=60,
        clock=lambda: now[0],
    )
    ctl.on_epoch_end(EpochEnd(1, 9, 1.0, 1.0, 1.0, True, "sample", "seed", 1.0, 0.9, 0.1))
    now[0] = 30.0
    assert ctl.take_checkpoint() is None  # 30 s of training: not worth writing yet
    assert ctl.take_checkpoint(final=True) == (1, {"state.json": b"1"})  # handed back: now
    ctl.checkpoint_stored(1)
    ctl = JobControl(
        0.0,
        {},
        snapshot=lambda: (2, {"state.json": b"2"}),
        checkpoint_seconds=60,
        clock=lambda: now[0],
    )
    ctl.on_epoch_end(EpochEnd(2, 9, 1.0, 1.0, 1.0, True, "sample", "seed", 1.0, 0.9, 0.1))
    now[0] = 95.0
    assert ctl.take_checkpoint() == (2, {"state.json": b"2"})


@pytest.mark.slow  # worker.inputs imports model_store.train (Keras)
def test_a_checkpoint_snapshot_keeps_its_epochs_files_while_training_replaces_them(
    tmp_path: Path,
) -> None:
    """The worker streams a checkpoint into the queue from files, not from memory: hard links
    that training's next save (a new file put in place) leaves as they were."""
    import os

    from worker.inputs import discard_snapshots, snapshot_checkpoint

    ckpt, outbox = tmp_path / "checkpoint", tmp_path / "outbox"
    assert snapshot_checkpoint(ckpt, outbox) is None  # before the first save

    def save(epoch: int) -> None:
        ckpt.mkdir(exist_ok=True)
        for name, data in (("checkpoint.keras", b"model"), ("best.npz", b"best")):
            (ckpt / "tmp").write_bytes(data + str(epoch).encode())
            os.replace(ckpt / "tmp", ckpt / name)
        (ckpt / "tmp").write_text(json.dumps({"epoch": epoch}))
        os.replace(ckpt / "tmp", ckpt / "state.json")

    save(1)
    epoch, files = snapshot_checkpoint(ckpt, outbox)
    assert epoch == 1 and files["checkpoint.keras"].read_bytes() == b"model1"
    assert snapshot_checkpoint(ckpt, outbox) == (1, files)  # the same epoch: the same files
    save(2)
    assert files["checkpoint.keras"].read_bytes() == b"model1"  # still epoch 1's bytes
    epoch, newer = snapshot_checkpoint(ckpt, outbox)
    assert epoch == 2 and newer["best.npz"].read_bytes() == b"best2"
    discard_snapshots(outbox, 1)  # epoch 1 stored (or superseded): its links go
    assert not files["checkpoint.keras"].exists() and newer["checkpoint.keras"].exists()

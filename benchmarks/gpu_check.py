"""The GPU check of issue 9 in one run (``bash benchmarks/gpu_check.sh`` on a GPU machine).

Each part runs in its own process (JAX takes a GPU's memory per process) and prints its
figures; the driver collects them into ``$OUT/gpu_check.json``:

  device       the Keras backend, the device, and the default network's step speed
  shakespeare  ``lstm-bot train corpora/tinyshakespeare.txt --name shakespeare --preset gpu
               --minutes 3`` (the CLI's own configuration, with a checkpoint directory as a
               worker has), then the numpy evaluator on the stored weights over the last 10%
               (target <= 1.40 nats/char) and each epoch's after-epoch share (target <= 10%)
  realpath     ``benchmarks/finetune_real_path.py --corpus corpora/dom_casmurro_pt.txt``: a
               "normal" /train through the real bot (fake Discord) and a real worker process,
               upload to result message (target: <= 1/5 of the CPU's wall time)
  worker       only when realpath fails: the worker's training steps in this process (read
               the upload, load the base, size the run, train, save), timed end to end

If the device part fails, it is tried again without the cuDNN LSTM kernel, then with
``KERAS_BACKEND=torch``; the parts after it use what worked.

``GPU_CHECK_QUICK=1`` shrinks everything (20 s, 150,000 characters, effort quick) to test the
script on a CPU. Imports only numpy, Keras and its backend (and discord.py, aiosqlite for
realpath).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUICK = os.environ.get("GPU_CHECK_QUICK") == "1"
MINUTES = 0.33 if QUICK else 3.0
QUICK_CHARS = 150_000
EFFORT = "quick" if QUICK else "normal"
SHAKESPEARE = ROOT / "corpora" / "tinyshakespeare.txt"
CASMURRO = ROOT / "corpora" / "dom_casmurro_pt.txt"
TARGET_NATS = 1.40
TARGET_SHARE = 0.10
RESULT = "RESULT "  # a part's last line: RESULT {json}


def corpus_text(path: Path) -> str:
    from model_store.corpus import read_corpus

    text = read_corpus(path)
    return text[:QUICK_CHARS] if QUICK else text


def report(result: dict) -> None:
    print(RESULT + json.dumps(result), flush=True)


def configure_keras() -> None:
    """Pick the backend (model_store.backend); with GPU_CHECK_NO_CUDNN=1, LSTMs without cuDNN."""
    from model_store.backend import configure

    configure()
    if os.environ.get("GPU_CHECK_NO_CUDNN") == "1":
        import functools

        import keras

        keras.layers.LSTM = functools.partial(keras.layers.LSTM, use_cudnn=False)
        print("cuDNN LSTM kernel disabled (GPU_CHECK_NO_CUDNN=1)")


def blas_threads(n: int):  # noqa: ANN201
    """numpy's BLAS on ``n`` threads inside the block (when threadpoolctl is there)."""
    import contextlib

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=n, user_api="blas")


# ---------------------------------------------------------------------------- the parts


def part_device() -> None:
    configure_keras()
    import keras
    import numpy as np

    from model_store.backend import training_device
    from model_store.config import NetworkConfig
    from model_store.network import build_model

    device = training_device()
    print(f"keras {keras.__version__}, backend {keras.backend.backend()}; {device}")
    if keras.backend.backend() == "jax":
        import jax

        print(f"jax {jax.__version__}: {jax.devices()}")
    cfg = NetworkConfig(vocab_size=80)
    model = build_model(cfg)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3, clipnorm=5.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    rng = np.random.default_rng(0)
    x = rng.integers(0, 80, (device.batch_size, 128))
    started = time.perf_counter()
    model.train_on_batch(x, x)
    first = time.perf_counter() - started
    started = time.perf_counter()
    steps = 20
    for _ in range(steps):
        model.train_on_batch(x, x)
    each = (time.perf_counter() - started) / steps
    rate = x.size / each
    long = rng.integers(0, 80, (16, 2000))  # the held-out check's shape: long pieces
    started = time.perf_counter()
    model.test_on_batch(long, long)
    check_s = time.perf_counter() - started
    print(f"a held-out check of 16 x 2000 characters (compiles): {check_s:.1f} s")
    print(
        f"default network, batch {device.batch_size} x 128: first step (compiles) {first:.1f} s, "
        f"then {each * 1000:.1f} ms a step = {rate:,.0f} characters/s"
    )
    report(
        {
            "device": device.description,
            "backend": keras.backend.backend(),
            "keras": keras.__version__,
            "default_step_ms": round(each * 1000, 2),
            "default_chars_per_s": round(rate),
            "first_step_s": round(first, 1),
        }
    )


def part_shakespeare() -> None:
    configure_keras()
    from cli.main import build_parser, train_recipe
    from model_store import ModelStore, evaluate_text, load_artifact
    from model_store.backend import training_device
    from model_store.corpus import split_heldout
    from model_store.lstm import NumpyLSTM
    from model_store.train import TrainingCallback, train

    work = Path(tempfile.mkdtemp(prefix="gpu-check-"))
    argv = ["train", str(SHAKESPEARE), "--name", "shakespeare", "--preset", "gpu"]
    argv += ["--minutes", str(MINUTES), "--checkpoint-dir", str(work / "ckpt")]
    print("lstm-bot " + " ".join(argv))
    args = build_parser().parse_args(argv)
    device = training_device()
    text = corpus_text(SHAKESPEARE)
    chosen = train_recipe(args, len(text), device)
    network, config = chosen.network, chosen.train
    print(f"{device.description}: {network}\n{config}")

    class Epochs(TrainingCallback):
        def __init__(self) -> None:
            self.rows: list[dict] = []

        def on_epoch_end(self, r) -> None:  # noqa: ANN001
            share = r.after_seconds / r.seconds
            self.rows.append(
                {
                    "epoch": r.epoch,
                    "heldout": round(r.heldout_loss, 4),
                    "steps_s": round(r.step_seconds, 2),
                    "after_s": round(r.after_seconds, 3),
                    "share": round(share, 4),
                }
            )
            print(
                f"epoch {r.epoch}: held-out {r.heldout_loss:.3f} (check), steps "
                f"{r.step_seconds:.2f} s, after-epoch {r.after_seconds:.3f} s = {share:.1%}",
                flush=True,
            )

    epochs = Epochs()
    started = time.perf_counter()
    result = train(
        text,
        "shakespeare",
        network=network,
        config=config,
        callback=epochs,
        checkpoint_dir=work / "ckpt",
        corpus_name=SHAKESPEARE.name,
    )
    train_wall = time.perf_counter() - started
    path = ModelStore(work / "models").save(result.artifact)
    stored = load_artifact(path)
    started = time.perf_counter()
    heldout = split_heldout(text)[1]
    with blas_threads(os.cpu_count() or 1):  # the final figure only; training's stay at one
        measured = evaluate_text(NumpyLSTM(stored.config, stored.weights), stored.charset, heldout)
    eval_wall = time.perf_counter() - started
    training = result.artifact.card["training"]
    print(
        f"(a) {training['epochs_run']} epochs, {training['steps_run']} steps "
        f"({training['passes']} passes), stopped: {result.stopped}; train() {train_wall:.0f} s"
    )
    print(
        f"(a) held-out, last 10%, numpy evaluator on the stored weights: {measured} "
        f"({eval_wall:.0f} s)  [target <= {TARGET_NATS}: "
        f"{'PASS' if measured.nats <= TARGET_NATS else 'MISS'}]"
    )
    later = [row["share"] for row in epochs.rows[1:]]
    if later:
        print(
            f"(b) after-epoch share (check + sample + checkpoint): epoch 1 (compiles) "
            f"{epochs.rows[0]['share']:.1%}; epochs 2+: median {statistics.median(later):.1%}, "
            f"max {max(later):.1%}  [target <= {TARGET_SHARE:.0%}: "
            f"{'PASS' if statistics.median(later) <= TARGET_SHARE else 'MISS'}]"
        )
    report(
        {
            "heldout_nats": round(measured.nats, 4),
            "epochs": epochs.rows,
            "stopped": result.stopped,
            "steps": training["steps_run"],
            "train_s": round(train_wall, 1),
            "numpy_eval_s": round(eval_wall, 1),
            "median_share_after_first": round(statistics.median(later), 4) if later else None,
        }
    )


def part_realpath() -> None:
    corpus = CASMURRO
    if QUICK:
        corpus = Path(tempfile.mkdtemp()) / CASMURRO.name
        corpus.write_text(corpus_text(CASMURRO), encoding="utf-8")
    cmd = [sys.executable, str(ROOT / "benchmarks" / "finetune_real_path.py")]
    cmd += ["--corpus", str(corpus), "--effort", EFFORT]
    print(" ".join(cmd), flush=True)
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    print(proc.stdout + proc.stderr[-3000:])
    wall = None
    for line in proc.stdout.splitlines():
        if line.startswith("wall time from upload to the result message:"):
            wall = float(line.split(":")[1].split()[0])
    if proc.returncode != 0 or wall is None:
        raise SystemExit(f"the real path did not finish (exit {proc.returncode})")
    report({"realpath_wall_s": wall, "effort": EFFORT})


def part_worker() -> None:
    """The worker's training steps for one /train job, in this process, timed end to end."""
    started = time.perf_counter()
    configure_keras()
    from model_store import ModelStore
    from model_store.backend import training_device
    from model_store.corpus import decode_corpus
    from model_store.store import BUILTIN_DIR, DEFAULT_MODEL
    from model_store.train import train
    from worker.params import make_params, parse_params

    work = Path(tempfile.mkdtemp(prefix="gpu-check-worker-"))
    upload = work / "upload.txt"
    upload.write_text(corpus_text(CASMURRO), encoding="utf-8")
    text = decode_corpus(upload.read_bytes(), min_chars=2)  # as worker/inputs.py does
    base = ModelStore(BUILTIN_DIR, read_only=True).load(DEFAULT_MODEL)
    plan = parse_params(make_params(EFFORT))
    config = plan.recipe(len(text), training_device()).train
    print(f"{training_device().description}: {config}")
    result = train(text, "casmurro", base=base, config=config, checkpoint_dir=work / "ckpt")
    ModelStore(work / "models").save(result.artifact)
    wall = time.perf_counter() - started
    card = result.artifact.card
    print(
        f"(c) worker's training steps in-process, {EFFORT} effort: {wall:.1f} s wall "
        f"(imports, training, evaluation, saving); held-out {card['base_heldout_loss_nats']:.3f} "
        f"-> {card['heldout_loss_nats']:.3f}; {card['training']['steps_run']} steps"
    )
    report({"worker_wall_s": round(wall, 1), "effort": EFFORT})


PARTS = {
    "device": (part_device, 120),
    "shakespeare": (part_shakespeare, int(MINUTES * 60) + 150),
    "realpath": (part_realpath, 200),
    "worker": (part_worker, 150),
}


# ---------------------------------------------------------------------------- the driver


def run_part(name: str) -> dict | None:
    """Run one part in its own process (killed after its time limit); its RESULT or None."""
    print(f"\n===== {name} =====", flush=True)
    started = time.perf_counter()
    cmd = ["timeout", "-k", "5", str(PARTS[name][1]), sys.executable, __file__, "--part", name]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    found = None
    assert proc.stdout is not None
    for raw in proc.stdout:
        line = raw.decode(errors="replace")
        if line.startswith(RESULT):
            found = json.loads(line[len(RESULT) :])
        else:
            print(line, end="", flush=True)
    code = proc.wait()
    note = " (timed out)" if code in (124, 137) else ""
    print(f"----- {name}: exit {code}{note}, {time.perf_counter() - started:.0f} s", flush=True)
    return found if code == 0 else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=PARTS)
    parser.add_argument("--only", nargs="*", choices=PARTS, help="run these parts only")
    args = parser.parse_args()
    if args.part:
        PARTS[args.part][0]()
        return 0
    out = Path(os.environ.get("OUT") or tempfile.mkdtemp(prefix="gpu-check-out-"))
    results: dict = {"quick": QUICK}

    def save() -> None:  # after every part, so a run cut short still leaves its figures
        (out / "gpu_check.json").write_text(json.dumps(results, indent=1))

    parts = args.only or ["device", "shakespeare", "realpath"]
    if parts[0] == "device":
        # If training fails on this stack, try without the cuDNN LSTM kernel, then on PyTorch.
        torch = {"KERAS_BACKEND": "torch", "GPU_CHECK_NO_CUDNN": "0"}
        tries = ({}, {"GPU_CHECK_NO_CUDNN": "1"}, torch)
        for fallback in tries:
            os.environ.update(fallback)
            results["device"] = run_part("device")
            results["fallback"] = fallback
            save()
            if results["device"] is not None:
                break
        parts = parts[1:]
    for name in parts:
        results[name] = run_part(name)
        save()
        if name == "realpath" and results[name] is None and not args.only:
            results["worker"] = run_part("worker")
            save()
    print(f"\nresults: {out / 'gpu_check.json'}")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Generation speed: the classic Keras example's loop against lstm-bot's numpy Generator.

(b) lstm-bot's :class:`~model_store.sampling.Generator` (numpy, one stateful step per
    character, one BLAS thread) generating 400 characters at temperature 0.5 from a
    40-character seed: median of several runs. It runs first, before TensorFlow is imported,
    and the script checks that TensorFlow stayed out of ``sys.modules``.
    Then aggregate characters/s for n samples generated together in one batch.
(a) The classic Keras example's loop on a Keras model holding the same weights: keep a
    40-character window, one-hot encode it, ``model.predict`` it, sample with temperature,
    slide the window. Some characters are timed and the time is extrapolated to 400.

Usage: .venv/bin/python benchmarks/generation.py [--model PATH_OR_NAME] [--corpus PATH]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import math
import os
import pstats
import sys
import time
from pathlib import Path

import _common

_common.pin_blas_threads(1)  # before numpy is imported, here and in model_store

import numpy as np  # noqa: E402

from model_store import (  # noqa: E402
    DEFAULT_MODEL,
    Charset,
    Generator,
    ModelArtifact,
    NetworkConfig,
    SampleOptions,
)
from model_store.artifact import load_artifact  # noqa: E402
from model_store.config import weight_shapes  # noqa: E402
from model_store.corpus import split_heldout  # noqa: E402
from model_store.lstm import NumpyLSTM  # noqa: E402
from model_store.sampling import sample_ids  # noqa: E402
from model_store.store import BUILTIN_DIR, ModelStore  # noqa: E402

TARGET_RATIO = 300.0
TARGET_SINGLE_MS = 100.0
TARGET_BATCH_CPS = 20_000.0
TARGET_BATCH_N = 128


def random_artifact(charset: Charset, seed: int = 0) -> ModelArtifact:
    """An untrained model of the default model's shape (speed does not depend on the values)."""
    cfg = NetworkConfig(vocab_size=len(charset))  # the default size
    rng = np.random.default_rng(seed)
    weights = {
        name: (rng.standard_normal(shape) / math.sqrt(shape[0])).astype(np.float32)
        for name, shape in weight_shapes(cfg).items()
    }
    card = {"note": "untrained, random weights"}
    return ModelArtifact(f"random-{DEFAULT_MODEL}", cfg, charset, weights, card)


def load_model(spec: str | None, store: str | None, text: str) -> tuple[ModelArtifact, str]:
    """The model named by ``--model`` (a directory, or a name in ``--store``/the built-ins)."""
    name = spec or DEFAULT_MODEL
    if Path(name).is_dir():
        return load_artifact(Path(name)), f"directory {name}"
    for root in ([store] if store else []) + [str(BUILTIN_DIR)]:
        models = ModelStore(root, read_only=True)
        if models.exists(name):
            return models.load(name), f"'{name}' from {root}"
    if spec is not None:
        raise SystemExit(f"--model {spec}: no such model directory or model name")
    print(
        f"NOTE: the default model '{DEFAULT_MODEL}' is not in {BUILTIN_DIR} yet (still training?);"
        " using an untrained model of the same shape with random weights. Generation speed does"
        " not depend on the weight values."
    )
    return random_artifact(Charset.from_text(text)), "random weights (default model's shape)"


def pick_seed(text: str, charset: Charset, length: int) -> str:
    """``length`` characters of held-out text, all known to the model, from a word start."""
    _train, heldout = split_heldout(text)
    start = 0
    while True:
        start = heldout.find(" ", start) + 1
        if start <= 0 or start + length > len(heldout):
            raise SystemExit("could not find a seed the model knows in the corpus")
        seed = heldout[start : start + length]
        if all(c in charset for c in seed):
            return seed


def time_generate(gen: Generator, seed: str, length: int, temp: float, n: int, runs: int) -> list:
    times = []
    for i in range(runs):
        opts = SampleOptions(temperature=temp, length=length, rng_seed=i)
        t0 = time.perf_counter()
        texts = gen.generate(seed, opts, n=n)
        times.append(time.perf_counter() - t0)
        assert len(texts) == n and all(len(t) == length for t in texts)
    return times


def numpy_breakdown(gen: Generator, seed: str, length: int, temp: float, total_s: float) -> None:
    """Where the time of one single-stream generation goes (per character step)."""
    model: NumpyLSTM = gen.model
    steps = len(seed) + length - 1
    ids = np.array([1])
    state = model.initial_state(1)
    t0 = time.perf_counter()
    for _ in range(steps):
        logits, state = model.step(ids, state)
    forward = (time.perf_counter() - t0) / steps

    # The matrix-vector products one step needs, timed alone on matrices of the same shapes
    # (taken from the weights, so this does not depend on NumpyLSTM's internals).
    reps = 300
    cfg, w = gen.artifact.config, gen.artifact.weights
    mats: list[tuple[str, np.ndarray]] = []
    for i in range(cfg.layers):
        rec = np.ascontiguousarray(w[f"lstm{i}_recurrent"], dtype=np.float32)
        if i == 0:  # the input projection is a table lookup
            mats.append((f"layer {i} h @ recurrent", rec))
        else:
            kernel = np.asarray(w[f"lstm{i}_kernel"], dtype=np.float32)
            mats.append((f"layer {i} [x,h] @ [kernel; recurrent]", np.concatenate([kernel, rec])))
    mats.append(("logits h @ dense", np.ascontiguousarray(w["dense_kernel"], dtype=np.float32)))
    matmul_total = 0.0
    weight_bytes = 0
    parts = []
    for label, mat in mats:
        vec = np.ones((1, mat.shape[0]), dtype=np.float32)
        t0 = time.perf_counter()
        for _ in range(reps):
            vec @ mat
        dt = (time.perf_counter() - t0) / reps
        matmul_total += dt
        weight_bytes += mat.nbytes
        parts.append(
            f"{label} {mat.shape[0]}x{mat.shape[1]} ({mat.nbytes / 2**20:.2f} MiB) "
            f"{dt * 1e6:.0f} us = {mat.nbytes / dt / 1e9:.0f} GB/s"
        )

    # The per-step arithmetic besides the matmuls (one tanh over the gates, the cell update),
    # timed alone: what is left of the step beyond this and the matmuls is cache misses.
    units = cfg.units
    z = np.zeros((1, 4 * units), dtype=np.float32)
    c = np.zeros((1, units), dtype=np.float32)
    table, ids1 = np.zeros((cfg.vocab_size, 4 * units), dtype=np.float32), np.array([1])
    t0 = time.perf_counter()
    for _ in range(reps):
        for i in range(cfg.layers):
            zz = table[ids1] + z if i == 0 else np.concatenate([c, c], axis=1)[:, :1] + z
            t = np.tanh(zz)
            cc = (0.5 + 0.5 * t[:, units : 2 * units]) * c + (0.5 + 0.5 * t[:, :units]) * t[
                :, 2 * units : 3 * units
            ]
            (0.5 + 0.5 * t[:, 3 * units :]) * np.tanh(cc)
    elementwise = (time.perf_counter() - t0) / reps

    args = (np.array([temp]), np.array([0]), np.array([1.0]))
    t0 = time.perf_counter()
    for _ in range(reps):
        sample_ids(logits, *args, np.array([0.5]))
    sampling = (time.perf_counter() - t0) / reps

    per_step = total_s / steps
    other = per_step - forward - sampling * length / steps
    print(f"  per character step (n=1, {steps} steps): {per_step * 1e6:.0f} us in all")
    print(
        f"    NumpyLSTM.step              {forward * 1e6:6.0f} us"
        f"  ({forward / per_step:.0%}), of which matmuls ~{matmul_total * 1e6:.0f} us:"
    )
    for p in parts:
        print(f"      {p}")
    print(
        f"      rest ~{(forward - matmul_total) * 1e6:.0f} us: gate arithmetic ~"
        f"{elementwise * 1e6:.0f} us (timed alone); the remainder is most likely the "
        "matmuls running slower inside the step than alone (the layers' weights evict each "
        "other from cache)"
    )
    print(
        f"    sample_ids (per sampled char) {sampling * 1e6:4.0f} us"
        f"  ({sampling * length / steps / per_step:.0%})"
    )
    print(
        f"    BatchSampler.step's own work {other * 1e6:5.0f} us  ({other / per_step:.0%}; "
        "all not attributed above)"
    )
    l2 = _common.cache_size(2)
    l2_note = f"; L2 cache per core: {l2 / 2**20:.1f} MiB" if l2 else ""
    print(
        f"  the matmuls read {weight_bytes / 2**20:.1f} MiB of float32 weights per step"
        f"{l2_note}: at the rates above they alone take {matmul_total * steps * 1e3:.0f} ms "
        f"of the {total_s * 1e3:.0f} ms for {steps} steps"
    )


def profile_generate(gen: Generator, seed: str, length: int, temp: float) -> None:
    prof = cProfile.Profile()
    prof.enable()
    gen.generate(seed, SampleOptions(temperature=temp, length=length, rng_seed=0))
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(12)
    print("  cProfile of one generation (tottime; '@' matmuls count in their caller):")
    for line in out.getvalue().splitlines():
        if line.strip() and not line.startswith(("   Ordered", "   List")):
            print("   ", line)


# ---------------------------------------------------------------- the classic Keras loop
def classic_sample(preds: np.ndarray, temperature: float = 1.0) -> int:
    """The keras-io example's ``sample`` helper, verbatim."""
    preds = np.asarray(preds).astype("float64")
    preds = np.log(preds) / temperature
    exp_preds = np.exp(preds)
    preds = exp_preds / np.sum(exp_preds)
    probas = np.random.multinomial(1, preds, 1)
    return int(np.argmax(probas))


def build_classic_keras(artifact: ModelArtifact, maxlen: int):  # -> keras.Model
    """The same trained network in the classic example's shape: one-hot (1, maxlen, V) in,
    softmax over the next character out. The embedding becomes a bias-free Dense on the
    one-hot input (one-hot @ E == E[ids]); the last LSTM returns only its final output."""
    import keras

    cfg, w = artifact.config, artifact.weights
    inputs = keras.Input(shape=(maxlen, cfg.vocab_size))
    x = keras.layers.Dense(cfg.embedding_dim, use_bias=False, name="embedding")(inputs)
    for i in range(cfg.layers):
        x = keras.layers.LSTM(cfg.units, return_sequences=i < cfg.layers - 1, name=f"lstm{i}")(x)
    outputs = keras.layers.Dense(cfg.vocab_size, activation="softmax", name="softmax")(x)
    model = keras.Model(inputs, outputs, name="classic")
    values = [w["embedding"]]
    for i in range(cfg.layers):
        values += [w[f"lstm{i}_kernel"], w[f"lstm{i}_recurrent"], w[f"lstm{i}_bias"]]
    model.set_weights(values + [w["dense_kernel"], w["dense_bias"]])
    return model


def classic_loop(model, charset: Charset, seed: str, chars: int, temp: float, call: str) -> float:
    """The example's generation loop for ``chars`` characters; returns seconds."""
    char_indices = {c: i for i, c in enumerate(charset.chars)}
    maxlen, vocab = len(seed), len(charset)
    sentence = seed
    generated = ""
    t0 = time.perf_counter()
    for _ in range(chars):
        x_pred = np.zeros((1, maxlen, vocab))
        for t, char in enumerate(sentence):
            x_pred[0, t, char_indices[char]] = 1.0
        if call == "predict":
            preds = model.predict(x_pred, verbose=0)[0]
        else:
            preds = np.asarray(model(x_pred, training=False))[0]
        next_char = charset.chars[classic_sample(preds, temp)]
        sentence = sentence[1:] + next_char
        generated += next_char
    assert len(generated) == chars
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help=f"model directory or name (default: '{DEFAULT_MODEL}')")
    ap.add_argument("--store", help="a model store directory to look --model up in")
    ap.add_argument("--corpus", default=str(_common.DEFAULT_CORPUS), help="seed text source")
    ap.add_argument("--length", type=int, default=400, help="characters to generate")
    ap.add_argument("--seed-len", type=int, default=40, help="seed / window length")
    ap.add_argument("--temperature", type=float, default=0.5)
    ap.add_argument("--runs", type=int, default=9, help="timed runs of (b); median reported")
    ap.add_argument("--batch-runs", type=int, default=3, help="timed runs per batch size")
    ap.add_argument("--batch-sizes", default="1,8,32,128")
    ap.add_argument(
        "--keras-chars",
        type=int,
        default=100,
        help="characters timed for the classic loop (extrapolated to --length)",
    )
    ap.add_argument("--profile", action="store_true", help="always print the cProfile table")
    ap.add_argument("--skip-keras", action="store_true", help="only the numpy part")
    args = ap.parse_args()

    _common.header("Generation benchmark: classic Keras loop vs lstm-bot's numpy Generator")
    text = _common.read_text(args.corpus)
    artifact, source = load_model(args.model, args.store, text)
    cfg = artifact.config
    print(
        f"model: {source}: {cfg.layers} x LSTM({cfg.units}), embedding {cfg.embedding_dim}, "
        f"{cfg.vocab_size} characters"
    )
    gen = Generator(artifact)
    seed = pick_seed(text, artifact.charset, args.seed_len)
    del text
    rss_loaded = _common.max_rss_mib()
    print(f"seed ({len(seed)} chars): {seed!r}")
    print(f"task: {args.length} characters at temperature {args.temperature}")
    print(f"numpy BLAS threads: {_common.blas_threads()}")
    print()

    # ---------------------------------------------------------------- (b) numpy Generator
    print("(b) lstm-bot Generator (numpy, stateful step), one stream")
    time_generate(gen, seed, args.length, args.temperature, 1, 2)  # warm-up
    times = time_generate(gen, seed, args.length, args.temperature, 1, args.runs)
    single = _common.median(times)
    single_ok = single * 1e3 <= TARGET_SINGLE_MS
    print(
        f"  {args.length} chars: median {single * 1e3:.1f} ms over {args.runs} runs "
        f"(min {min(times) * 1e3:.1f}, max {max(times) * 1e3:.1f}) = "
        f"{args.length / single:,.0f} chars/s   "
        f"[target <= {TARGET_SINGLE_MS:.0f} ms: {_common.verdict(single_ok)}]"
    )
    numpy_breakdown(gen, seed, args.length, args.temperature, single)
    if args.profile or not single_ok:
        profile_generate(gen, seed, args.length, args.temperature)
    print()

    print(
        f"(b) batched: n samples of {args.length} chars generated together "
        f"(Generator.generate(seed, options, n=n)), median of {args.batch_runs} runs"
    )
    batch_cps: dict[int, float] = {}
    for n in (int(s) for s in args.batch_sizes.split(",")):
        time_generate(gen, seed, args.length, args.temperature, n, 1)  # warm-up
        bt = _common.median(
            time_generate(gen, seed, args.length, args.temperature, n, args.batch_runs)
        )
        batch_cps[n] = n * args.length / bt
        mark = ""
        if n == TARGET_BATCH_N:
            ok = batch_cps[n] >= TARGET_BATCH_CPS
            mark = f"   [target >= {TARGET_BATCH_CPS:,.0f} chars/s: {_common.verdict(ok)}]"
        print(
            f"  n={n:4d}: {bt * 1e3:8.1f} ms per batch, {batch_cps[n]:9,.0f} chars/s "
            f"({bt / (len(seed) + args.length - 1) * 1e6:.0f} us per step){mark}"
        )
    tf_loaded = "tensorflow" in sys.modules or "keras" in sys.modules
    print(f"  TensorFlow/Keras imported during (b): {'YES' if tf_loaded else 'no'}")
    print(
        f"  max RSS after loading the model: {rss_loaded:.0f} MiB; after (b): "
        f"{_common.max_rss_mib():.0f} MiB (ru_maxrss; no TensorFlow in the process)"
    )
    print()
    if args.skip_keras:
        return 0

    # ---------------------------------------------------------------- (a) classic Keras loop
    from model_store.backend import configure

    configure(threads=1)
    import keras

    print(
        f"(a) classic Keras example loop: per character, one-hot (1, {len(seed)}, "
        f"{cfg.vocab_size}) window -> model.predict -> sample -> slide"
    )
    print(
        f"  keras {keras.__version__}, backend {keras.backend.backend()}, TF intra-op threads "
        f"{os.environ.get('TF_NUM_INTRAOP_THREADS')}, same weights as (b)"
    )
    model = build_classic_keras(artifact, len(seed))
    x = np.zeros((1, len(seed), cfg.vocab_size), dtype=np.float32)
    x[0, np.arange(len(seed)), artifact.charset.encode(seed).ids] = 1.0
    keras_probs = model.predict(x, verbose=0)[0]  # also the warm-up (tracing)
    logits, _ = gen.model.prime(artifact.charset.encode(seed).ids)
    z = logits[0].astype(np.float64)
    numpy_probs = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    print(
        f"  parity: max |p_keras - p_numpy| after the seed = "
        f"{np.abs(keras_probs - numpy_probs).max():.2e}"
    )
    np.random.seed(0)
    secs = classic_loop(
        model, artifact.charset, seed, args.keras_chars, args.temperature, "predict"
    )
    per_char = secs / args.keras_chars
    classic = per_char * args.length
    print(
        f"  {args.keras_chars} chars timed: {secs:.2f} s = {per_char * 1e3:.1f} ms per char; "
        f"extrapolated to {args.length} chars: {classic:.2f} s"
    )
    ctx_chars = max(10, args.keras_chars // 2)
    secs_call = classic_loop(model, artifact.charset, seed, ctx_chars, args.temperature, "call")
    print(
        f"  (context only: the same loop calling model(x) instead of predict: "
        f"{secs_call / ctx_chars * 1e3:.1f} ms per char)"
    )
    print(f"  max RSS with TensorFlow loaded: {_common.max_rss_mib():.0f} MiB")
    print()

    ratio = classic / single
    print("Summary")
    print(
        f"  (a) classic loop, {args.length} chars: {classic * 1e3:10.1f} ms (extrapolated "
        f"from {args.keras_chars})"
    )
    print(
        f"  (b) lstm-bot Generator, {args.length} chars: {single * 1e3:6.1f} ms   "
        f"[target <= {TARGET_SINGLE_MS:.0f} ms: {_common.verdict(single_ok)}]"
    )
    print(
        f"  ratio (a)/(b): {ratio:,.0f}x   "
        f"[target >= {TARGET_RATIO:.0f}x: {_common.verdict(ratio >= TARGET_RATIO)}]"
    )
    if TARGET_BATCH_N in batch_cps:
        ok = batch_cps[TARGET_BATCH_N] >= TARGET_BATCH_CPS
        print(
            f"  n={TARGET_BATCH_N} batch: {batch_cps[TARGET_BATCH_N]:,.0f} chars/s   "
            f"[target >= {TARGET_BATCH_CPS:,.0f}: {_common.verdict(ok)}]"
        )
    print(
        f"  (b) needs TensorFlow: {'YES' if tf_loaded else 'no'}; "
        f"max RSS after loading: {rss_loaded:.0f} MiB"
    )
    print(f"  {_common.NOISE_NOTE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Shared by the bot benchmarks: a bot on the default model, against the fake Discord."""

from __future__ import annotations

import tempfile
from pathlib import Path

from model_store import Charset, ModelArtifact, ModelStore, NetworkConfig
from model_store.config import weight_shapes
from model_store.store import BUILTIN_DIR, DEFAULT_MODEL


def builtin_root() -> Path:
    """The shipped models, or (before the default model exists) a stand-in of the same shape."""
    if (BUILTIN_DIR / DEFAULT_MODEL / "card.json").is_file():
        return BUILTIN_DIR
    print(f"note: {DEFAULT_MODEL} is not trained yet; using random weights of the same shape")
    import numpy as np  # after model_store, which sets single-threaded BLAS first

    root = Path(tempfile.mkdtemp()) / "builtin"
    charset = Charset(tuple(chr(c) for c in range(32, 117)))
    cfg = NetworkConfig(vocab_size=len(charset))  # the default size
    rng = np.random.default_rng(0)
    weights = {k: rng.normal(0, 0.1, s).astype(np.float32) for k, s in weight_shapes(cfg).items()}
    ModelStore(root).save(ModelArtifact(DEFAULT_MODEL, cfg, charset, weights, {}))
    return root


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")

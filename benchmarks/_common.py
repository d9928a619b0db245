"""Helpers shared by the benchmark scripts.

Importing this module imports nothing but the standard library, so a script can call
:func:`pin_blas_threads` before numpy (or TensorFlow) is loaded.
"""

from __future__ import annotations

import ctypes
import os
import platform
import resource
import statistics
import sys
from pathlib import Path

DEFAULT_CORPUS = Path("/work/shared/corpora/nietzsche.txt")
BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
NOISE_NOTE = (
    "Timings are wall-clock on a shared machine (other training runs and test suites may be "
    "using the other core), so expect some noise between runs."
)


def pin_blas_threads(threads: int = 1) -> None:
    """Limit numpy's BLAS (and OpenMP) to ``threads``; call before numpy is imported."""
    if "numpy" in sys.modules:
        raise RuntimeError("pin_blas_threads() must run before numpy is imported")
    for var in BLAS_THREAD_VARS:
        os.environ[var] = str(threads)


def blas_threads() -> str:
    """How many threads numpy's BLAS uses, checked with threadpoolctl or OpenBLAS itself."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        pass
    else:
        pools = [f"{p['internal_api']}={p['num_threads']}" for p in threadpool_info()]
        return ", ".join(pools) + " (threadpoolctl)" if pools else "no thread pools (threadpoolctl)"
    import numpy as np  # noqa: F401 - make sure its OpenBLAS is loaded before looking for it

    libs = []
    with open("/proc/self/maps") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 6 and "openblas" in os.path.basename(parts[5]).lower():
                if parts[5] not in libs:
                    libs.append(parts[5])
    for path in libs:
        lib = ctypes.CDLL(path)
        for symbol in (
            "scipy_openblas_get_num_threads64_",
            "openblas_get_num_threads64_",
            "openblas_get_num_threads",
        ):
            fn = getattr(lib, symbol, None)
            if fn is not None:
                fn.restype = ctypes.c_int
                return f"openblas={fn()} (asked OpenBLAS via {symbol}; threadpoolctl not installed)"
    env = ", ".join(f"{v}={os.environ.get(v)}" for v in BLAS_THREAD_VARS)
    return f"unverified (threadpoolctl not installed, no OpenBLAS found); {env}"


def max_rss_mib() -> float:
    """Peak resident memory of this process so far (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mib() -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def cache_size(level: int = 2) -> int | None:
    """Size in bytes of CPU 0's data/unified cache at ``level`` (Linux sysfs), if known."""
    root = Path("/sys/devices/system/cpu/cpu0/cache")
    for index in sorted(root.glob("index*")) if root.is_dir() else []:
        try:
            if int((index / "level").read_text()) != level:
                continue
            if (index / "type").read_text().strip() not in ("Data", "Unified"):
                continue
            size = (index / "size").read_text().strip().upper()
        except (OSError, ValueError):
            continue
        units = {"K": 1024, "M": 1024**2, "G": 1024**3}
        if size and size[-1] in units:
            return int(size[:-1]) * units[size[-1]]
        if size.isdigit():
            return int(size)
    return None


def median(values: list[float]) -> float:
    return statistics.median(values)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def header(title: str) -> None:
    print(f"== {title} ==")
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
        + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    print(NOISE_NOTE)
    print()


def read_text(path: str | Path) -> str:
    """The corpus as lstm-bot reads it (UTF-8, normalised newlines / NFC); original case."""
    from model_store.corpus import read_corpus

    return read_corpus(path)

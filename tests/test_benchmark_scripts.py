"""Benchmark scripts run with ``benchmarks/`` first on ``sys.path``: a file named like a
standard-library module there (``queue.py``) would replace it for every script (the bot's
``asyncio.to_thread`` imports ``queue``)."""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_no_benchmark_script_shadows_a_standard_module():
    names = {p.stem for p in BENCHMARKS.glob("*.py")}
    assert not names & set(sys.stdlib_module_names), sorted(names & set(sys.stdlib_module_names))


def test_soak_smoke(tmp_path):
    """A tiny soak run (no training, a gateway drop, faults) passes all its checks."""
    import os
    import subprocess

    env = dict(os.environ, PYTHONPATH=str(BENCHMARKS.parent), TMPDIR=str(tmp_path))
    args = ["--minutes", "0.15", "--users", "2", "--trainings", "0"]
    args += ["--gateway-drop-every", "4", "--faults", "0.05", "--drain", "60"]
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "soak.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    checks = [line for line in proc.stdout.splitlines() if line.startswith(("PASS", "FAIL"))]
    assert len(checks) == 8 and all(line.startswith("PASS") for line in checks), proc.stdout
    assert "gateway drops" in proc.stdout

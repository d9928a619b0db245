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

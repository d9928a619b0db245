"""Serving needs no TensorFlow: the console (the real bot, generation, buttons, /train's
answer) runs in a process where Keras, TensorFlow, JAX and PyTorch can't be imported, as on a
machine without the train extra."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from worker.process import clean_env

ROOT = Path(__file__).resolve().parents[1]
TRAINING = ("keras", "tensorflow", "jax", "torch")

# An import hook that raises on any training library, and entries that make them look absent
# (``find_spec`` answers None for them, as when the train extra is not installed).
BLOCK = f"""
import sys
from importlib.abc import MetaPathFinder

class NoTraining(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {TRAINING!r}:
            raise ImportError(f"serving imported {{name}}")
        return None

sys.meta_path.insert(0, NoTraining())
for name in {TRAINING!r}:
    sys.modules[name] = None
from cli.main import main
code = main(sys.argv[1:])
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {TRAINING!r} and sys.modules[m])
print("training modules:", loaded)
sys.exit(code)
"""

SCRIPT = (
    "/model list\n"
    '/generate seed:"The will to" temperature:0 length:60\n'
    "click Continue\n"
    "/train file:corpus.txt name:mine effort:quick\n"
)


def test_the_console_serves_without_any_training_library(tmp_path: Path) -> None:
    (tmp_path / "corpus.txt").write_text("The cat sees the moon. A dog likes a tree. " * 200)
    env = clean_env()
    env.update(PYTHONPATH=str(ROOT), LSTM_BOT_DATA_DIR=str(tmp_path / "data"))
    done = subprocess.run(
        [sys.executable, "-c", BLOCK, "console"],
        input=SCRIPT,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = done.stdout
    assert "training modules: []" in out, out + done.stderr
    assert "(nietzsche · temperature 0 · 60 characters)" in out, out + done.stderr
    assert "(nietzsche · temperature 0 · 120 characters)" in out  # the Continue button
    assert "Queued job #1" in out and "the train extra is not installed" in out
    assert "serving imported" not in out + done.stderr

"""The loss-curve PNG made for each finished job (matplotlib, Agg; never on the serving path)."""

from __future__ import annotations

import os
from pathlib import Path


def warm_up() -> None:
    """Import matplotlib now (seconds on a busy machine): imported at a job's end, in a
    thread, it would starve the event loop's heartbeats."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
    from matplotlib.figure import Figure  # noqa: F401


def plot_losses(history: list[dict[str, float]], path: Path, title: str) -> Path:
    """Training and held-out loss per epoch, written atomically to ``path``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    epochs = [h["epoch"] for h in history]
    fig = Figure(figsize=(6, 3.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.plot(epochs, [h["loss"] for h in history], marker="o", label="training")
    ax.plot(epochs, [h["heldout_loss"] for h in history], marker="s", label="held-out")
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (nats per character)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fig.savefig(tmp, format="png")
    os.replace(tmp, path)
    return path

"""The arrows point one way: cli -> cogs -> bot -> jobs, model_store; worker -> jobs,
model_store. ``cli`` (the command line and the console) may import everything; the bot loads
the feature extensions in ``cogs`` by name and never imports them; fake_discord (a fake of
Discord for tests and the console) stands apart and imports none of them. Every top-level
package has a rule."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package -> top-level packages it must never import, at module level or inside functions
PROJECT = {"cli", "bot", "cogs", "jobs", "model_store", "worker", "fake_discord"}
FORBIDDEN = {
    "cli": set(),  # the room above all others: it starts the bot, the worker and the console
    "bot": {"cli", "cogs", "worker", "fake_discord"},
    "cogs": {"cli", "worker", "fake_discord"},
    "worker": {"cli", "bot", "cogs", "discord", "fake_discord"},
    "jobs": {"cli", "bot", "cogs", "worker", "discord", "fake_discord", "model_store"},
    "model_store": {"cli", "bot", "cogs", "worker", "jobs", "discord", "fake_discord"},
    "fake_discord": PROJECT - {"fake_discord"},
}


def imports(path: Path, *, module_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_packages_import_only_downwards(package: str) -> None:
    for path in (ROOT / package).rglob("*.py"):
        bad = imports(path, module_level_only=False) & FORBIDDEN[package]
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_every_package_has_a_rule() -> None:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "benchmarks"}
    assert packages == PROJECT
    assert set(FORBIDDEN) == PROJECT


def test_a_forbidden_import_is_found(tmp_path: Path) -> None:
    """The rules can fail: imports are found at module level and inside functions."""
    path = tmp_path / "m.py"
    path.write_text("import os\nfrom bot.client import LSTMBot\ndef f():\n    import cogs.jobs\n")
    assert imports(path, module_level_only=False) == {"os", "bot", "cogs"}
    assert imports(path, module_level_only=True) == {"os", "bot"}

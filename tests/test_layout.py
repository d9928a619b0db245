"""The arrows point one way: cogs -> bot -> jobs, model_store; worker -> jobs, model_store."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package -> top-level packages it must never import (``lazy``: not at module level only)
FORBIDDEN = {
    "worker": {"bot", "cogs", "discord", "fake_discord"},
    "cogs": {"worker", "fake_discord"},
    "jobs": {"bot", "cogs", "worker", "discord", "fake_discord", "model_store"},
    "model_store": {"bot", "cogs", "worker", "jobs", "discord", "fake_discord"},
}
LAZY_ONLY = {"bot": {"worker"}}


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


@pytest.mark.parametrize("package", sorted(LAZY_ONLY))
def test_bot_never_imports_the_worker_at_module_level(package: str) -> None:
    for path in (ROOT / package).rglob("*.py"):
        bad = imports(path, module_level_only=True) & LAZY_ONLY[package]
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)} at module level"

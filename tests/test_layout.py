"""The arrows point one way: cli -> cogs -> bot -> jobs, model_store; worker -> jobs,
model_store. ``cli`` (the command line and the console) may import everything; the bot loads
the feature extensions in ``cogs`` by name and never imports them; fake_discord (a fake of
Discord for tests and the console) stands apart and imports none of them; the features in
``cogs`` never import one another. Every top-level package has a rule, and no feature module
reaches back to the bot object's module under ``TYPE_CHECKING`` (an import circle hidden from
the interpreter is still a circle)."""

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
FEATURE_CODE = ("bot", "cogs")  # where nothing may import bot.client under TYPE_CHECKING


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


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def type_checking_imports(source: str, package: str) -> set[str]:
    """The modules imported under ``if TYPE_CHECKING:`` in ``source``, a module of ``package``
    (dotted), with relative imports written out (``.client`` in ``bot`` is ``bot.client``)."""
    here = package.split(".")
    found = set()
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.If) and _is_type_checking(node.test)):
            continue
        for inner in (n for stmt in node.body for n in ast.walk(stmt)):
            if isinstance(inner, ast.Import):
                found |= {alias.name for alias in inner.names}
            elif isinstance(inner, ast.ImportFrom):
                base = here[: len(here) - inner.level + 1] if inner.level else []
                found.add(".".join([*base, *([inner.module] if inner.module else [])]))
    return found


def _package_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).parent.parts)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_packages_import_only_downwards(package: str) -> None:
    for path in (ROOT / package).rglob("*.py"):
        bad = imports(path, module_level_only=False) & FORBIDDEN[package]
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


@pytest.mark.parametrize("package", FEATURE_CODE)
def test_no_feature_imports_the_client_behind_type_checking(package: str) -> None:
    """Services are handed what they use; a cog that needs the bot imports bot.client openly."""
    for path in (ROOT / package).rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        bad = type_checking_imports(source, _package_of(path)) & {"bot.client"}
        assert not bad, f"{path.relative_to(ROOT)} imports bot.client under TYPE_CHECKING"


def feature_imports(source: str) -> set[str]:
    """The features (``cogs.X``) a module imports by absolute name."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        found |= {n.split(".")[1] for n in names if n.startswith("cogs.") and n.count(".") >= 1}
    return found


def test_features_never_import_one_another() -> None:
    """Each extension under cogs/ stands alone on what bot/ shares (loaded, unloaded alone)."""
    for path in (ROOT / "cogs").rglob("*.py"):
        parts = path.relative_to(ROOT / "cogs").parts
        own = parts[0].removesuffix(".py") if len(parts) > 1 or parts[0] != "__init__.py" else ""
        others = feature_imports(path.read_text(encoding="utf-8")) - {own}
        assert not others, f"{path.relative_to(ROOT)} imports the features {sorted(others)}"
    assert feature_imports("from cogs.models.embeds import card_embed\nimport cogs.writing") == {
        "models",
        "writing",
    }


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


@pytest.mark.parametrize(
    ("package", "line", "found"),
    [
        ("bot", "from .client import LSTMBot", "bot.client"),
        ("cogs.writing", "from bot.client import LSTMBot", "bot.client"),
        ("cogs.writing", "from ..models import embeds", "cogs.models"),
        ("bot", "import bot.client", "bot.client"),
    ],
)
def test_a_type_checking_import_is_found(package: str, line: str, found: str) -> None:
    """The TYPE_CHECKING rule can fail, relative imports included."""
    source = f"from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    {line}\n"
    assert type_checking_imports(source, package) == {found}
    assert type_checking_imports(line + "\n", package) == set()  # an open import is no secret

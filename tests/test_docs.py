"""The README and docs/ stay true to the tree: every relative link points at a file (and a
heading) that exists, every path they name in backticks exists, and the README stays short."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [
    ROOT / "README.md",
    ROOT / "benchmarks" / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
]
README_MAX_LINES = 170

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
# a repository path in backticks: a known top-level folder, then more of a path
PATH = re.compile(
    r"`((?:bot|cogs|cli|console|jobs|model_store|worker|fake_discord|tests|benchmarks|docs)"
    r"/[\w./-]*)`"
)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    anchors = set()
    in_code = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if in_code or not line.startswith("#"):
            continue
        slug = _slug(line.lstrip("#"))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _prose(path: Path) -> str:
    """The text outside fenced code blocks."""
    lines, in_code = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code:
            lines.append(line)
    return "\n".join(lines)


def test_docs_exist():
    assert (ROOT / "docs").is_dir() and len(DOCS) > 3


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_at_existing_files_and_headings(doc: Path):
    broken = []
    for target in LINK.findall(_prose(doc)):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        linked = (doc.parent / file_part).resolve() if file_part else doc
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target}: no such heading")
    assert not broken, f"{doc.relative_to(ROOT)}: {broken}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_named_paths_exist(doc: Path):
    missing = [
        name
        for name in PATH.findall(doc.read_text(encoding="utf-8"))
        if not (ROOT / name.rstrip("/")).exists()
    ]
    assert not missing, f"{doc.relative_to(ROOT)} names paths that don't exist: {missing}"


def test_slug_follows_github():
    assert _slug("`bot_load.py` on a 2-core CPU") == "bot_loadpy-on-a-2-core-cpu"
    assert _slug("A small hosted PostgreSQL") == "a-small-hosted-postgresql"


def test_readme_stays_short():
    lines = len((ROOT / "README.md").read_text(encoding="utf-8").splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines: move detail into docs/"


def _tracked_folders() -> set[str] | None:
    """The top-level folders git tracks files in (None outside a git checkout)."""
    import subprocess

    try:
        listed = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return {line.split("/")[0] for line in listed.splitlines() if "/" in line} - {".ci"}


def test_readme_layout_names_every_folder():
    folders = _tracked_folders()
    if folders is None:
        pytest.skip("not a git checkout")
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = text.split("## Layout", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"^\| `([\w.-]+)/` \|", layout, re.M))
    assert named == folders, f"README's layout: missing {folders - named}, extra {named - folders}"

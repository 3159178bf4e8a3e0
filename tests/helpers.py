"""Helpers the tests share: git, the state of a repository, editing and reading files."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def git(repo: Path, *args: str) -> str:
    """`git -C repo ARGS`'s standard output; a failing git fails the test."""
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


def repo_state(repo: Path) -> dict[str, str]:
    """Everything a refused command must leave alone: refs, HEAD, index, working tree.

    Working tree files are compared byte for byte: every environment file, and
    meshgen.yaml.
    """
    head = subprocess.run(
        ["git", "-C", str(repo), "symbolic-ref", "-q", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    ).stdout or git(repo, "rev-parse", "HEAD")
    state = {
        "refs": git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
        "head": head,
        "status": git(repo, "status", "--porcelain=v1", "-uall"),
        "index": git(repo, "diff", "--cached", "--name-status"),
    }
    files = [repo / "meshgen.yaml", *sorted((repo / "environments").rglob("*.yaml"))]
    for path in files:
        state[path.relative_to(repo).as_posix()] = path.read_text()
    return state


def start_merge(repo: Path) -> None:
    """Leave `repo` in the middle of a merge (`git merge --no-commit` of a side branch)."""
    git(repo, "switch", "-q", "-c", "other")
    (repo / "docs.txt").write_text("x\n")
    git(repo, "add", "docs.txt")
    git(repo, "commit", "-qm", "other")
    git(repo, "switch", "-q", "main")
    git(repo, "merge", "--no-commit", "--no-ff", "-q", "other")


def replace(path: Path, old: str, new: str, *, every: bool = False) -> None:
    """Replace the first occurrence of `old` in `path` (each one, with `every`).

    `old` must be there: an edit that silently does nothing would make the test pass
    for the wrong reason.
    """
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new) if every else text.replace(old, new, 1))


def line_of(path: Path, needle: str) -> int:
    """The 1-based number of the first line of `path` holding `needle`, comments aside."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line and not line.lstrip().startswith("#"):
            return number
    raise AssertionError(f"{needle!r} not in {path}")


# -- case folders (tests/rules/, tests/bad_inputs/) share one way to prepare a repository


def copy_case_files(case_dir: Path, root: Path) -> None:
    """Copy the case folder's `files/` over `root` (inputs easiest written out whole)."""
    if (case_dir / "files").is_dir():
        shutil.copytree(case_dir / "files", root, dirs_exist_ok=True)


def apply_case_edits(case: Mapping[str, Any], root: Path) -> None:
    """A case's `replace: [{file, old, new}]` (first occurrence) and `delete: [file]`."""
    for edit in case.get("replace", []):
        replace(root / edit["file"], edit["old"], edit["new"])
    for relative in case.get("delete", []):
        (root / relative).unlink()

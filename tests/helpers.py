"""Helpers the tests share: git, the state of a repository, editing and reading files,
serving a folder over loopback HTTP."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator, Mapping
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml


def git(repo: Path, *args: str, env: Mapping[str, str] | None = None, check: bool = True) -> str:
    """`git -C repo ARGS`'s standard output, with `env` over the test's environment; a
    failing git fails the test unless `check` is false."""
    done = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=check,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    return done.stdout


def repo_state(repo: Path) -> dict[str, str]:
    """Everything a refused command must leave alone: refs, HEAD, index, working tree.

    Working tree files are compared byte for byte: every environment file, and
    meshgen.yaml. Looking changes nothing: git writes no refreshed index meanwhile.
    """
    state = {
        "refs": git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
        "head": git(repo, "symbolic-ref", "-q", "HEAD", check=False)
        or git(repo, "rev-parse", "HEAD"),
        "index": git(repo, "ls-files", "-s"),
        "staged": git(repo, "diff", "--cached", "--name-status"),
        "status": git(repo, "--no-optional-locks", "status", "--porcelain=v1", "-uall"),
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


def load_all(path: Path) -> list[dict[str, Any]]:
    """The YAML documents of `path`, empty ones left out."""
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def by_name(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs}


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not worth a line each in the test output."""


@contextlib.contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """`folder` served over HTTP on a loopback port (a chart repository, schema locations);
    yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


# -- case folders (tests/rules/, tests/bad_inputs/) share one way to prepare a repository


def copy_case_files(case_dir: Path, root: Path) -> None:
    """Copy the case folder's `files/` over `root` (inputs easiest written out whole)."""
    if (case_dir / "files").is_dir():
        shutil.copytree(case_dir / "files", root, dirs_exist_ok=True)


REPLACE_KEYS = frozenset({"file", "old", "new", "every"})


def apply_case_edits(case: Mapping[str, Any], root: Path) -> None:
    """A case's `replace: [{file, old, new, every}]` (in order; the first occurrence, or
    each one with `every: true`) and `delete: [path]` (a file or a whole folder)."""
    for edit in case.get("replace", []):
        unknown = set(edit) - REPLACE_KEYS
        assert not unknown, f"replace: unknown keys {sorted(unknown)}"
        replace(root / edit["file"], edit["old"], edit["new"], every=edit.get("every", False))
    for relative in case.get("delete", []):
        target = root / relative
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()

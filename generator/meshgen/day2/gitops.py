"""Commit a day-2 change: several files, on a new branch or the current one.

Checked before anything is written (a repository with commits, a branch on HEAD or a new
branch name, no uncommitted changes), so a refusal leaves the repository as it was;
a failed commit puts the branch and the index back. Runs git through its command line,
with argument lists and a timeout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from meshgen.errors import GitError, ToolError
from meshgen.tools import run


@dataclass(frozen=True)
class Plan:
    top: Path
    branch: str | None
    start_branch: str | None
    start_commit: str


def _git(top: Path, *args: str, check: bool = True) -> str:
    try:
        return run(["git", "-C", str(top), *args], check=check).stdout
    except ToolError as exc:
        raise GitError(f"git {args[0]} failed in {top}: {exc}") from None


def plan(root: Path, paths: Sequence[str], *, branch: str | None) -> Plan:
    """Check that meshgen may commit `paths` of `root` (on a new `branch`)."""
    result = run(["git", "-C", str(root), "rev-parse", "--show-toplevel"], check=False)
    if result.returncode != 0:
        raise GitError(
            f"{root} is not inside a git repository; run `git init` and make a first "
            "commit, or drop --branch/--commit"
        )
    # git reads pathspecs relative to the folder it runs in: the repository root, which
    # may sit below the top of the git working tree.
    top = root
    head = run(["git", "-C", str(top), "rev-parse", "--verify", "-q", "HEAD"], check=False)
    if head.returncode != 0:
        raise GitError(f"the repository at {top} has no commits yet; make a first commit")
    start_branch = _git(top, "branch", "--show-current").strip() or None
    if branch is None and start_branch is None:
        raise GitError("HEAD is detached; pass --branch NAME to commit on a new branch")
    if branch is not None:
        if run(["git", "check-ref-format", "--branch", branch], check=False).returncode:
            raise GitError(f"{branch!r} is not a valid git branch name")
        if _git(top, "branch", "--list", branch).strip():
            raise GitError(f"branch {branch!r} already exists; choose another --branch name")
    if _git(top, "status", "--porcelain", "--untracked-files=no").strip():
        raise GitError(
            "the working tree has uncommitted changes; commit or stash them first, so "
            "that the commit holds only meshgen's change"
        )
    untracked = _git(top, "ls-files", "--others", "--exclude-standard", "--", *paths).split()
    if untracked:
        raise GitError(f"{untracked[0]} exists but is not committed; commit or remove it first")
    return Plan(top, branch, start_branch, head.stdout.strip())


def commit(plan: Plan, paths: Sequence[str], message: str) -> str:
    """Commit the written `paths` (relative to the repository root = the git top)."""
    created = False
    try:
        if plan.branch is not None:
            _git(plan.top, "checkout", "-q", "-b", plan.branch)
            created = True
        _git(plan.top, "add", "--all", "--", *paths)
        run(["git", "-C", str(plan.top), "commit", "-q", "-F", "-"], input_text=message)
        return _git(plan.top, "rev-parse", "HEAD").strip()
    except BaseException as exc:
        _git(plan.top, "reset", "-q", plan.start_commit, "--", *paths, check=False)
        if created and plan.branch is not None:
            back = plan.start_branch or plan.start_commit
            _git(plan.top, "checkout", "-q", back, check=False)
            _git(plan.top, "branch", "-D", plan.branch, check=False)
        if isinstance(exc, ToolError):
            raise GitError(f"git commit failed in {plan.top}: {exc}") from None
        raise

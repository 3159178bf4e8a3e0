"""Everything checked before a meshgen command commits to the repository.

A refusal here changes nothing: files are written and committed only after these
checks pass, under the repository lock. A canary step commits one file (`plan_commit`),
a day-2 command several (`plan_change`); both refuse the same git states.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshgen.errors import GitError
from meshgen.git.plumbing import (
    branch_exists,
    current_branch,
    git_errors,
    has_commits,
    open_repo,
    repo_or_none,
    run_git,
)
from meshgen.git.state import refuse_unfinished_operation


@dataclass(frozen=True)
class BranchPlan:
    """A commit meshgen checked it may make on top of HEAD, before touching anything."""

    top: Path
    """The git working tree."""
    git_dir: Path
    branch: str | None
    """The new branch to create from HEAD, or None to commit on the current branch."""
    start_branch: str | None
    """The branch checked out before, or None on a detached HEAD."""
    start_commit: str


@dataclass(frozen=True)
class CommitPlan(BranchPlan):
    """A commit of one file (a canary step's)."""

    path: Path
    relpath: str
    mode: str
    """The file's mode in git (100644, 100755)."""


@dataclass(frozen=True)
class ChangePlan(BranchPlan):
    """A commit of several files (a day-2 command's), written or deleted."""

    modes: Mapping[str, str]
    """Each path's mode in git (relative to `top`); 100644 for a file HEAD does not have."""


def _refuse_foreign_owner(top: Path) -> None:
    """git refuses a repository another user owns; say so instead of "no commits yet"."""
    try:
        run_git(top, ["rev-parse", "--git-dir"])
    except GitError as exc:
        if "dubious ownership" in str(exc):
            raise GitError(
                f"git refuses {top}: it belongs to another user; if you trust it, run "
                f"git config --global --add safe.directory {top}, then retry"
            ) from None
        raise


def _open(where: Path) -> tuple[Any, Path, Path]:
    """The repository around `where`, its working tree and git directory, once the states
    no commit may be made in are ruled out."""
    repo = open_repo(where)
    top = Path(str(repo.working_tree_dir))
    _refuse_foreign_owner(top)
    git_dir = Path(str(repo.git_dir))
    refuse_unfinished_operation(git_dir, top)
    return repo, top, git_dir


def _start(repo: Any, top: Path, branch: str | None) -> tuple[str | None, str]:
    """The checked-out branch and commit a new commit goes on top of, `branch` checked."""
    if not has_commits(repo):
        raise GitError(
            f"the repository at {top} has no commits yet; make a first commit "
            "(git add --all && git commit), then retry"
        )
    start_branch = current_branch(repo)
    if branch is None and start_branch is None:
        raise GitError(
            "HEAD is detached, so a commit would belong to no branch; "
            "pass --branch NAME to commit on a new branch"
        )
    if branch is not None:
        _check_new_branch(repo, branch)
    return start_branch, str(repo.head.commit.hexsha)


def plan_commit(path: Path, *, branch: str | None, allow_dirty: bool) -> CommitPlan:
    """Check that meshgen may commit `path` (on a new `branch`); raise GitError if not."""
    repo, top, git_dir = _open(path.parent)
    relpath = path.resolve().relative_to(top.resolve()).as_posix()
    with git_errors(top):
        start_branch, start_commit = _start(repo, top, branch)
        listed = str(repo.git.ls_tree("HEAD", "--", relpath)).split()
        if not listed:
            raise GitError(
                f"{relpath} is not committed on HEAD; commit it first, so that meshgen's "
                "commit holds only its edit"
            )
        if relpath in _changed_paths(repo):
            raise GitError(
                f"{relpath} has uncommitted changes; commit or stash them first, "
                "so that the commit holds only meshgen's edit"
            )
        if not allow_dirty and repo.is_dirty(index=True, working_tree=True, untracked_files=False):
            raise GitError(
                "the working tree has uncommitted changes; commit or stash them, or pass "
                "--allow-dirty (meshgen still commits only the environment file)"
            )
        return CommitPlan(
            top=top,
            git_dir=git_dir,
            path=path,
            relpath=relpath,
            mode=listed[0],
            branch=branch,
            start_branch=start_branch,
            start_commit=start_commit,
        )


def plan_change(root: Path, paths: Sequence[str], *, branch: str | None) -> ChangePlan:
    """Check that meshgen may commit `paths` (relative to `root`, written or deleted) on a
    new `branch` or the current one; raise GitError if not.

    The whole working tree must be clean: the change was validated as the repository
    plus the change, and publishing it moves the branch, the index and the files
    together. A file meshgen would create must not exist untracked (or ignored): git
    would overwrite it.
    """
    repo, top, git_dir = _open(root)
    prefix = root.resolve().relative_to(top.resolve())
    relpaths = [(prefix / path).as_posix() for path in paths]
    with git_errors(top):
        start_branch, start_commit = _start(repo, top, branch)
        changed = sorted(_changed_paths(repo))
        if changed:
            raise GitError(
                f"the working tree has uncommitted changes ({changed[0]}"
                f"{f' and {len(changed) - 1} more' if len(changed) > 1 else ''}); commit "
                "or stash them first, so that the commit holds only meshgen's change"
            )
        listed = str(repo.git.ls_tree("-r", "-z", "HEAD", "--", *relpaths)).split("\0")
        modes = {}
        for entry in filter(None, listed):
            meta, name = entry.split("\t", 1)
            modes[name] = meta.split()[0]
        for relpath in relpaths:
            if relpath not in modes and os.path.lexists(top / relpath):
                raise GitError(
                    f"{relpath} exists but is not committed; commit or remove it first "
                    "(meshgen would replace it)"
                )
        return ChangePlan(
            top=top,
            git_dir=git_dir,
            branch=branch,
            start_branch=start_branch,
            start_commit=start_commit,
            modes={path: modes.get(path, "100644") for path in relpaths},
        )


# A branch is a file under .git/refs/heads/, each part between '/' a folder or file name
# (at most 255 bytes), and git writes NAME.lock beside it first.
MAX_BRANCH_PART_BYTES = 255 - len(".lock")


def _check_new_branch(repo: Any, branch: str) -> None:
    try:
        repo.git.check_ref_format("--branch", branch)
    except Exception:
        raise GitError(f"{branch!r} is not a valid git branch name") from None
    if branch_exists(repo, branch):
        raise GitError(
            f"branch {branch!r} already exists; choose another --branch name "
            f"(or delete it: git branch -d {branch})"
        )
    _check_branch_fits(repo, branch)
    remote = [
        line.strip()
        for line in str(repo.git.branch("--remotes", "--list", f"*/{branch}")).splitlines()
        if line.strip()
    ]
    if remote:
        raise GitError(
            f"branch {branch!r} exists on the remote ({remote[0]}) but not here; a new "
            f"local {branch!r} would not contain it and could not be pushed over it: "
            f"choose another --branch name, or continue that branch (git switch {branch}, "
            "then run with --commit)"
        )


def _check_branch_fits(repo: Any, branch: str) -> None:
    """Refuse a name git would refuse only while switching: `git checkout -b` has by then
    written the new files and index, and leaves them so on the old branch."""
    parts = branch.split("/")
    longest = max(parts, key=lambda part: len(part.encode()))
    if len(longest.encode()) > MAX_BRANCH_PART_BYTES:
        raise GitError(
            f"--branch: a part of the name between '/' is {len(longest.encode())} bytes, "
            f"more than the {MAX_BRANCH_PART_BYTES} git can store; choose a shorter name"
        )
    heads = set(
        str(repo.git.for_each_ref("--format=%(refname:strip=2)", "refs/heads/")).splitlines()
    )
    above = ["/".join(parts[:end]) for end in range(1, len(parts))]
    clash = [name for name in above if name in heads]
    clash += sorted(name for name in heads if name.startswith(f"{branch}/"))
    if clash:
        raise GitError(
            f"branch {branch!r} cannot exist beside branch {clash[0]!r} (git keeps a "
            "branch and branches under its name apart); choose another --branch name"
        )


def _changed_paths(repo: Any) -> set[str]:
    """Tracked paths that differ from HEAD in the index or the working tree."""
    staged = str(repo.git.diff("--cached", "--name-only", "-z"))
    unstaged = str(repo.git.diff("--name-only", "-z"))
    return {p for p in (staged + "\0" + unstaged).split("\0") if p}


def git_dir_of(path: Path) -> Path | None:
    """git's directory for the worktree around `path`, None outside git."""
    repo = repo_or_none(path)
    return None if repo is None else Path(str(repo.git_dir))


def head_state(path: Path) -> tuple[str | None, str | None]:
    """The checked-out branch and commit around `path`, (None, None) outside git."""
    repo = repo_or_none(path)
    if repo is None:
        return None, None
    with git_errors(path):
        if not has_commits(repo):
            return current_branch(repo), None
        return current_branch(repo), str(repo.head.commit.hexsha)

"""meshgen's commits: the first commit of a new repository, and a canary step's commit
of one file, checked before anything is touched and rolled back when it fails.

The author of a canary step keeps whatever identity git is configured with; commits
never skip the user's hooks, because a hook is the user's own guard rail.
"""

from __future__ import annotations

import os
from collections.abc import Callable
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
    repo_class,
)

# Used only when the user's git has no identity at all (a fresh CI machine), so that
# `meshgen new` can still make the first commit; the README says so.
FALLBACK_NAME = "meshgen"
FALLBACK_EMAIL = "meshgen@localhost"
DEFAULT_BRANCH = "main"


def _identity_env(repo_dir: Path) -> dict[str, str]:
    """Author/committer variables for the fallback identity, when git has none."""

    env: dict[str, str] = {}
    reader = repo_class()(repo_dir).config_reader()
    name = os.environ.get("GIT_AUTHOR_NAME") or reader.get_value("user", "name", "")
    email = os.environ.get("GIT_AUTHOR_EMAIL") or reader.get_value("user", "email", "")
    if not name:
        env["GIT_AUTHOR_NAME"] = env["GIT_COMMITTER_NAME"] = FALLBACK_NAME
    if not email:
        env["GIT_AUTHOR_EMAIL"] = env["GIT_COMMITTER_EMAIL"] = FALLBACK_EMAIL
    return env


def init_and_commit(repo_dir: Path, message: str) -> str:
    """`git init -b main` in `repo_dir`, add everything, commit; returns the commit SHA."""
    import git

    try:
        repo = repo_class().init(repo_dir, initial_branch=DEFAULT_BRANCH)
        repo.git.add("--all")
        with repo.git.custom_environment(**_identity_env(repo_dir)):
            repo.git.commit("--no-verify", "--quiet", "-m", message)
        return str(repo.head.commit.hexsha)
    except git.GitCommandError as exc:
        raise GitError(
            f"git {exc.command[1] if len(exc.command) > 1 else ''} failed in "
            f"{repo_dir}: {' '.join(str(exc.stderr).split())}"
        ) from None
    except git.GitError as exc:  # pragma: no cover - e.g. no git executable
        raise GitError(f"git failed in {repo_dir}: {exc}") from None


@dataclass(frozen=True)
class CommitPlan:
    """A commit of one file that meshgen checked it may make, before touching anything."""

    top: Path
    """The git working tree that holds the file."""
    path: Path
    relpath: str
    branch: str | None
    """The new branch to create from HEAD, or None to commit on the current branch."""
    start_branch: str | None
    """The branch checked out before, or None on a detached HEAD."""
    start_commit: str


@dataclass(frozen=True)
class CommitResult:
    sha: str
    branch: str | None
    """The branch the commit is on (and that is checked out), None on a detached HEAD."""


def plan_commit(path: Path, *, branch: str | None, allow_dirty: bool) -> CommitPlan:
    """Check that meshgen may commit `path` (on a new `branch`); raise GitError if not.

    Nothing is changed: the caller writes the file only after this succeeds.
    """
    repo = open_repo(path.parent)
    top = Path(str(repo.working_tree_dir))
    relpath = path.resolve().relative_to(top.resolve()).as_posix()
    with git_errors(top):
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
            try:
                repo.git.check_ref_format("--branch", branch)
            except Exception:
                raise GitError(f"{branch!r} is not a valid git branch name") from None
            if branch_exists(repo, branch):
                raise GitError(
                    f"branch {branch!r} already exists; choose another --branch name "
                    f"(or delete it: git branch -d {branch})"
                )
        if not str(repo.git.ls_tree("--name-only", "HEAD", "--", relpath)).strip():
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
            path=path,
            relpath=relpath,
            branch=branch,
            start_branch=start_branch,
            start_commit=str(repo.head.commit.hexsha),
        )


def _changed_paths(repo: Any) -> set[str]:
    """Tracked paths that differ from HEAD in the index or the working tree."""
    staged = str(repo.git.diff("--cached", "--name-only", "-z"))
    unstaged = str(repo.git.diff("--name-only", "-z"))
    return {p for p in (staged + "\0" + unstaged).split("\0") if p}


def commit_file(
    plan: CommitPlan, message: str, write: Callable[[], None], restore: Callable[[], None]
) -> CommitResult:
    """Create the branch (if any), `write()` the file, commit only it.

    On any failure, `restore()` puts the file back and the repository is returned to the
    branch and commit it was on; a branch created here is deleted again.
    """
    repo = open_repo(plan.top)
    created = False
    locks_before = _lock_files(repo)
    try:
        with git_errors(plan.top):
            if plan.branch is not None:
                # Set first: git creates the branch even when a post-checkout hook then
                # fails the command, and the rollback must remove it in that case too.
                created = True
                # Same commit, so checking it out leaves the working tree as it is.
                repo.git.checkout("-q", "-b", plan.branch)
            write()
            repo.git.add("--", plan.relpath)
            with repo.git.custom_environment(**_identity_env(plan.top)):
                repo.git.commit("-q", "--only", "-m", message, "--", plan.relpath)
            return CommitResult(str(repo.head.commit.hexsha), current_branch(repo))
    except BaseException:
        restore()
        # A git process killed at its deadline cannot remove its own lock files; only
        # the ones that appeared during this commit are ours to clear.
        for lock in _lock_files(repo) - locks_before:
            lock.unlink(missing_ok=True)
        with git_errors(plan.top):
            repo.git.reset("-q", plan.start_commit, "--", plan.relpath)
            if created and plan.branch is not None and branch_exists(repo, plan.branch):
                target = plan.start_branch or plan.start_commit
                if current_branch(repo) == plan.branch:
                    # Putting things back is not a checkout the user's hooks should veto.
                    repo.git.execute(
                        ["git", "-c", "core.hooksPath=/dev/null", "checkout", "-q", target]
                    )
                repo.git.branch("-d", plan.branch)
        raise


def _lock_files(repo: Any) -> set[Path]:
    return set(Path(str(repo.git_dir)).glob("*.lock"))

"""Opening a repository, running git with a deadline, and git's failures as GitErrors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from meshgen.errors import GitError

GIT_TIMEOUT_SECONDS = 60


@cache
def repo_class() -> Any:
    """git.Repo whose every git command is killed after GIT_TIMEOUT_SECONDS.

    GitPython runs commands without a time limit; a hook or credential prompt that
    never returns would hang meshgen, so each call gets a deadline unless it streams.
    """
    import git  # GitPython probes the git binary at import time

    class TimedGit(git.Git):
        def execute(self, command: Any, *args: Any, **kwargs: Any) -> Any:
            streaming = kwargs.get("as_process") or kwargs.get("output_stream") is not None
            if not streaming:
                kwargs.setdefault("kill_after_timeout", GIT_TIMEOUT_SECONDS)
            return super().execute(command, *args, **kwargs)

    class TimedRepo(git.Repo):
        GitCommandWrapperType = TimedGit

    return TimedRepo


@contextmanager
def git_errors(where: Path) -> Iterator[None]:
    """GitPython's exceptions, as one-line GitErrors naming `where`."""
    import git

    try:
        yield
    except git.GitCommandError as exc:
        verb = exc.command[1] if len(exc.command) > 1 else ""
        detail = " ".join(str(exc.stderr).split()) or " ".join(str(exc.stdout).split())
        if not detail.strip("'\" ") or detail in ("stderr: ''", "stdout: ''"):
            detail = f"exit status {exc.status} with no message (a git hook may have refused)"
        raise GitError(f"git {verb} failed in {where}: {detail}") from None
    except git.InvalidGitRepositoryError:
        raise GitError(
            f"{where} is not inside a git repository; run `git init` and make a first "
            "commit, or drop --branch/--commit"
        ) from None
    except git.NoSuchPathError:
        raise GitError(f"{where} does not exist") from None


def open_repo(path: Path) -> Any:
    """The repository around `path`."""
    with git_errors(path):
        return repo_class()(path, search_parent_directories=True)


def has_commits(repo: Any) -> bool:
    return bool(repo.head.is_valid())


def current_branch(repo: Any) -> str | None:
    """The checked-out branch, None on a detached HEAD."""
    return None if repo.head.is_detached else str(repo.active_branch.name)


def branch_exists(repo: Any, name: str) -> bool:
    return bool(repo.git.branch("--list", name).strip())


def rev_parse(repo: Any, ref: str) -> str | None:
    """The commit SHA `ref` names, or None."""
    import git

    try:
        return str(repo.git.rev_parse("--verify", "--quiet", f"{ref}^{{commit}}")).strip() or None
    except git.GitCommandError:
        return None

"""Opening a repository, running git with a deadline, and git's failures as GitErrors."""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from functools import cache
from pathlib import Path
from typing import Any

from meshgen.errors import GitError
from meshgen.git.signals import shielded

GIT_TIMEOUT_SECONDS = 60
# Open files that shielded git commands inherit: the repository lock while it is held.
_inherited: list[int] = []


@contextmanager
def inherited_by_git(fd: int) -> Iterator[None]:
    """Within the block, every shielded `run_git` passes `fd` on to git (see run_git)."""
    _inherited.append(fd)
    try:
        yield
    finally:
        _inherited.remove(fd)


def inherited_fds() -> tuple[int, ...]:
    """The open files a process that publishes a change must inherit: the repository
    lock while it is held."""
    return tuple(_inherited)


@cache
def repo_class() -> Any:
    """git.Repo whose every git command is killed after GIT_TIMEOUT_SECONDS.

    GitPython runs commands without a time limit; a hook or credential prompt that
    never returns would hang meshgen, so each call gets a deadline unless it streams.
    """
    gitpython()  # a clear error when git is missing
    import git

    class TimedGit(git.Git):
        def execute(self, command: Any, *args: Any, **kwargs: Any) -> Any:
            streaming = kwargs.get("as_process") or kwargs.get("output_stream") is not None
            if not streaming:
                kwargs.setdefault("kill_after_timeout", GIT_TIMEOUT_SECONDS)
            # meshgen's reads (status, diff) must not rewrite the index: that would race
            # with the user's git and fail on a full disk before meshgen changed anything.
            kwargs["env"] = {"GIT_OPTIONAL_LOCKS": "0", **(kwargs.get("env") or {})}
            try:
                return super().execute(command, *args, **kwargs)
            except (KeyboardInterrupt, SystemExit):
                _cancel_watchdogs()
                raise

    class TimedRepo(git.Repo):
        GitCommandWrapperType = TimedGit

    return TimedRepo


def gitpython() -> Any:
    """The GitPython module, or a GitError when git itself is missing."""
    try:
        import git  # GitPython probes the git binary at import time
    except ImportError:
        raise GitError(_NO_GIT) from None
    return git


_NO_GIT = "git is not installed or not on PATH; install git (https://git-scm.com) and retry"


def _cancel_watchdogs() -> None:
    """Stop GitPython's timeout timers of an interrupted command.

    GitPython cancels its watchdog thread only when the command returns; interrupted,
    the thread lives on and the interpreter waits for it (up to GIT_TIMEOUT_SECONDS)
    before it can exit. Cancelling makes Ctrl-C and SIGTERM end meshgen at once.
    """
    for thread in threading.enumerate():
        if isinstance(thread, threading.Timer) and thread is not threading.current_thread():
            thread.cancel()


def run_git(
    top: Path,
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    input_bytes: bytes | None = None,
    detach: bool = False,
    shield: bool = True,
    action: str | None = None,
) -> str:
    """`git ARGS` in `top` with a deadline; its stdout, or a one-line GitError.

    With `shield` (the default), SIGINT and SIGTERM wait until git has finished, so git
    is never stopped halfway (a stale index.lock); hooks run unshielded, a hook that
    hangs must stay interruptible. With `detach`, git runs in its own session: a kill of
    meshgen's process group does not stop it either. A shielded git also inherits the
    repository lock meshgen holds, if any: killed, meshgen leaves it to finish, and the
    lock is free again only then, so the next holder never sees git halfway (hooks do
    not inherit it: one that hangs must not keep the repository locked). `action` names
    what failed in messages [default: git and its subcommand].
    """
    import os

    if shutil.which("git") is None:
        raise GitError(_NO_GIT)
    argv = ["git", *args]
    action = action or f"git {args[0]}"
    try:
        with shielded() if shield else nullcontext():
            result = subprocess.run(
                argv,
                cwd=top,
                input=input_bytes,
                capture_output=True,
                timeout=GIT_TIMEOUT_SECONDS,
                env={**os.environ, **env} if env else None,
                start_new_session=detach,
                pass_fds=tuple(_inherited) if shield else (),
                check=False,
            )
    except subprocess.TimeoutExpired:
        raise GitError(
            f"{action} gave no answer within {GIT_TIMEOUT_SECONDS}s in {top} "
            "(a git hook or a credential prompt may be waiting); gave up"
        ) from None
    if result.returncode != 0:
        detail = " ".join(result.stderr.decode(errors="replace").split()) or " ".join(
            result.stdout.decode(errors="replace").split()
        )
        if not detail:
            detail = f"exit status {result.returncode} with no message (a hook may have refused)"
        raise GitError(f"{action} failed in {top}: {detail}")
    return result.stdout.decode(errors="replace")


@contextmanager
def git_errors(where: Path) -> Iterator[None]:
    """GitPython's exceptions, as one-line GitErrors naming `where`."""
    git = gitpython()

    try:
        yield
    except git.GitCommandNotFound:
        raise GitError(_NO_GIT) from None
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


def repo_or_none(path: Path) -> Any:
    """The repository around `path`, None outside git."""
    git = gitpython()
    try:
        return repo_class()(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def common_dir(path: Path) -> Path | None:
    """git's directory shared by every worktree of the repository around `path`, or None
    outside git."""
    repo = repo_or_none(path)
    return None if repo is None else Path(str(repo.common_dir))

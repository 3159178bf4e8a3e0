"""The frame of every command that changes a repository: a canary step or a day-2 command.

The command reads, plans, checks and publishes its change while holding the repository
lock, so no other meshgen command reads a file it is about to replace or moves the
branch under it. On taking the lock it removes what a killed earlier run left (scratch
files in git's directory, temporary files beside the files it was replacing), and a
command that commits refuses when it waited for another and the checked-out branch
changed meanwhile: two `--branch` commands never stack one branch on the other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from meshgen.errors import GitError
from meshgen.git.commit import remove_scratch
from meshgen.git.lock import repository_lock
from meshgen.git.preflight import git_dir_of, head_state
from meshgen.git.worktree import remove_leftovers


@contextmanager
def locked_change(
    root: Path, *, commit: bool, temporaries: Path | None = None
) -> Iterator[list[str]]:
    """Hold the repository lock of `root` for one change; yields notes on the leftovers of
    killed runs it removed. `temporaries`: a folder where `yamlio.atomic_write_text`
    replaced files, whose temporary files are removed too."""
    started_on = head_state(root)[0] if commit else None
    with repository_lock(root):
        notes = _clear_leftovers(root, temporaries)
        if commit:
            now_on = head_state(root)[0]
            if now_on != started_on:
                raise GitError(
                    f"while this command waited for another meshgen command, the checked-out "
                    f"branch changed from {started_on or 'a detached HEAD'} to "
                    f"{now_on or 'a detached HEAD'}; switch to the branch this change belongs "
                    "on, then run it again (nothing was changed)"
                )
        yield notes


def _clear_leftovers(root: Path, temporaries: Path | None) -> list[str]:
    """Remove what a killed earlier run left (only a lock holder writes these files)."""
    found: list[Path] = []
    git_dir = git_dir_of(root)
    if git_dir is not None:
        found += remove_scratch(git_dir)
    found += remove_leftovers(root, git_dir)
    if temporaries is not None and temporaries.is_dir():
        for leftover in temporaries.rglob(".*.yaml.*.tmp"):
            if leftover.is_file() and not leftover.is_symlink():
                leftover.unlink(missing_ok=True)
                found.append(leftover)
    return [
        f"removed {p.relative_to(root) if p.is_relative_to(root) else p}, left by an "
        "interrupted earlier meshgen command"
        for p in found
    ]

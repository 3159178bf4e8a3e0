"""One lock per repository, so that meshgen's writers take turns.

Two steps at once would otherwise both read the same file and one change would be lost,
or one step's branch would be made on top of the other's. The lock is `flock` on
`meshgen.lock` in git's common directory (shared by every worktree), or on the
repository folder itself outside git: the kernel releases it when its holder exits,
however it exits, so a killed run never leaves a lock behind and no process ever
deletes another's.

The lock also covers the step's publication: the one git command that makes a commit
visible runs detached, so that a kill of meshgen cannot stop it halfway, and it inherits
the lock's open file. The lock is free again only when that command has finished too, so
the next meshgen command (or anyone who takes the lock to look) never sees the repository
between the step's before and after.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from meshgen.errors import GitError
from meshgen.git.plumbing import common_dir, inherited_by_git

LOCK_NAME = "meshgen.lock"
WAIT_SECONDS = 10.0
_POLL_SECONDS = 0.05


class RepositoryBusy(GitError):
    """Another meshgen command holds the repository lock."""


def _lock_target(root: Path) -> tuple[Path, int]:
    git_dir = common_dir(root)
    if git_dir is not None:
        return git_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT
    return root, os.O_RDONLY | os.O_DIRECTORY


@contextmanager
def repository_lock(root: Path, wait_seconds: float | None = None) -> Iterator[None]:
    """Hold the lock of the repository around `root`; wait up to `wait_seconds`
    [default: WAIT_SECONDS] for it."""
    if wait_seconds is None:
        wait_seconds = WAIT_SECONDS
    path, flags = _lock_target(root)
    fd = os.open(path, flags | os.O_CLOEXEC, 0o644)
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RepositoryBusy(
                        f"another meshgen command is changing {root} (it holds {path} "
                        f"for more than {wait_seconds:g}s); let it finish, then retry"
                    ) from None
                time.sleep(_POLL_SECONDS)
        with inherited_by_git(fd):
            yield
    finally:
        os.close(fd)

"""States of a repository in which meshgen must not commit.

A commit made while git is in the middle of a rebase, merge, cherry-pick, revert or
bisect lands somewhere the user does not expect (after `rebase --continue`, a canary
commit made mid-rebase ends up on the base branch; a merge loses its MERGE_HEAD).
"""

from __future__ import annotations

from pathlib import Path

from meshgen.errors import GitError

# What git leaves in its directory while an operation waits for the user, and how the
# user ends it. Checked in this order: a rebase stopped at a conflict also has a
# CHERRY_PICK_HEAD-like state, and the rebase is what the user must finish.
_OPERATIONS: tuple[tuple[str, str, str], ...] = (
    ("rebase-merge", "a rebase", "git rebase --continue or git rebase --abort"),
    ("rebase-apply", "a rebase or git am", "git rebase --continue/--abort or git am --abort"),
    ("MERGE_HEAD", "a merge", "git commit to conclude it, or git merge --abort"),
    ("CHERRY_PICK_HEAD", "a cherry-pick", "git cherry-pick --continue or --abort"),
    ("REVERT_HEAD", "a revert", "git revert --continue or --abort"),
    ("BISECT_LOG", "a bisect", "git bisect reset"),
    ("sequencer", "a cherry-pick or revert sequence", "git cherry-pick --abort"),
)


def unfinished_operation(git_dir: Path) -> tuple[str, str] | None:
    """What git is in the middle of in `git_dir` and how to end it, or None."""
    for marker, what, fix in _OPERATIONS:
        if (git_dir / marker).exists():
            return what, fix
    return None


def refuse_unfinished_operation(git_dir: Path, top: Path) -> None:
    found = unfinished_operation(git_dir)
    if found is not None:
        what, fix = found
        raise GitError(
            f"{top} is in the middle of {what}; finish it first ({fix}), then retry "
            "(nothing was changed)"
        )

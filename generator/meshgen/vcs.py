"""Git, through GitPython. The only module that imports it.

meshgen never forces, never rewrites history and commits only the paths it names.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from meshgen.errors import GitError

# Used only when the user's git has no identity at all (a fresh CI machine), so that
# `meshgen new` can still make the first commit; the README says so.
FALLBACK_NAME = "meshgen"
FALLBACK_EMAIL = "meshgen@localhost"
DEFAULT_BRANCH = "main"
GIT_TIMEOUT_SECONDS = 60


def _git() -> object:
    try:
        import git  # GitPython probes the git binary at import time
    except ImportError as exc:  # pragma: no cover - GitPython is a dependency
        raise GitError(f"GitPython is not available: {exc}") from None
    return git


def _identity_env(repo_dir: Path) -> dict[str, str]:
    """Author/committer variables for the fallback identity, when git has none."""
    import git

    env: dict[str, str] = {}
    reader = git.Repo(repo_dir).config_reader()
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
        repo = git.Repo.init(repo_dir, initial_branch=DEFAULT_BRANCH)
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


def is_clean(repo_dir: Path) -> bool:
    import git

    return not git.Repo(repo_dir).is_dirty(untracked_files=True)


def tracked_files(repo_dir: Path) -> Sequence[str]:
    import git

    return str(git.Repo(repo_dir).git.ls_files()).splitlines()

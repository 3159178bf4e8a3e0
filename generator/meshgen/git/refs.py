"""Reading other commits: the base a change is measured against, files and messages."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from meshgen.errors import ConfigError, GitError
from meshgen.git.plumbing import git_errors, has_commits, open_repo, repo_or_none, rev_parse

# Set by CI to the ref a pull request merges into; read by the command line only.
ENV_BASE_REF = "MESHGEN_BASE_REF"


def is_repository(path: Path) -> bool:
    return repo_or_none(path) is not None


def resolve_commit(root: Path, ref: str) -> str:
    """The commit SHA `ref` names, or a GitError saying it names none."""
    repo = open_repo(root)
    sha = rev_parse(repo, ref)
    if sha is None:
        raise GitError(
            f"{ref!r} names no commit in {repo.working_tree_dir}; "
            "check the name with `git branch -a` or `git log`"
        )
    return sha


def head_commit(root: Path) -> str | None:
    repo = open_repo(root)
    return str(repo.head.commit.hexsha) if has_commits(repo) else None


def merge_base(root: Path, first: str, second: str) -> str | None:
    repo = open_repo(root)
    with git_errors(root):
        try:
            return str(repo.git.merge_base(first, second)).strip() or None
        except Exception:
            return None


class BaseRefNotFound(ConfigError):
    """MESHGEN_BASE_REF names no commit.

    A ref given on purpose that does not resolve is a mistake to stop at: falling back to
    another base would measure the change against something the user did not ask for.
    """

    def __init__(self, ref: str, root: Path, branch: str) -> None:
        self.ref = ref
        fallback = " or ".join(base_candidates(branch))
        super().__init__(
            f"{ENV_BASE_REF}={ref!r} names no commit in {root}; set it to a branch or commit "
            f"that exists (fetch it first: git fetch origin {branch}), or unset it to compare "
            f"with {fallback}"
        )


def base_candidates(branch: str) -> tuple[str, ...]:
    """The refs tried, in order, when MESHGEN_BASE_REF is not set."""
    return (f"origin/{branch}", branch)


def find_base(root: Path, branch: str, env_ref: str | None) -> tuple[str, str] | None:
    """The ref a change is measured against and its SHA, or None when none exists.

    `env_ref` (MESHGEN_BASE_REF, set by CI) wins, and raises BaseRefNotFound when it
    names no commit; otherwise `origin/<branch>`, which is what a pull request merges
    into, then the local `branch`.
    """
    repo = open_repo(root)
    if env_ref:
        sha = rev_parse(repo, env_ref)
        if sha is None:
            raise BaseRefNotFound(env_ref, Path(str(repo.working_tree_dir)), branch)
        return env_ref, sha
    for ref in base_candidates(branch):
        sha = rev_parse(repo, ref)
        if sha:
            return ref, sha
    return None


def export_tree(root: Path, commit: str, dest: Path) -> Path:
    """Write the files of `commit` under `dest` (nothing else is touched); returns where
    `root` lies inside the export."""
    import tarfile

    repo = open_repo(root)
    top = Path(str(repo.working_tree_dir)).resolve()
    inside = root.resolve().relative_to(top)
    buffer = io.BytesIO()
    with git_errors(root):
        repo.archive(buffer, commit, format="tar")
    buffer.seek(0)
    with tarfile.open(fileobj=buffer, mode="r:") as archive:
        archive.extractall(dest, filter=_safe_member)  # noqa: S202 - every member is filtered
    return dest / inside


def _safe_member(member: Any, dest_path: str) -> Any:
    """tarfile's "data" filter, skipping what it refuses instead of failing.

    A link to an absolute path or out of the tree (a repository may hold one for local
    tooling) cannot matter to rendering, and must not stop the diff.
    """
    import tarfile

    try:
        return tarfile.data_filter(member, dest_path)
    except tarfile.FilterError:
        return None


def read_file_at(root: Path, commit: str, path: Path) -> str | None:
    """The text of `path` at `commit`, or None when the file does not exist there."""
    repo = open_repo(root)
    top = Path(str(repo.working_tree_dir)).resolve()
    relpath = path.resolve().relative_to(top).as_posix()
    try:
        return str(repo.git.show(f"{commit}:{relpath}", strip_newline_in_stdout=False))
    except Exception:
        return None


def commit_messages(root: Path, base: str, head: str = "HEAD") -> list[str]:
    """Full messages of the commits in base..head."""
    repo = open_repo(root)
    with git_errors(root):
        return [str(c.message) for c in repo.iter_commits(f"{base}..{head}")]

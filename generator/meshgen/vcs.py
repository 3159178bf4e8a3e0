"""Git, through GitPython. The only module that imports it.

meshgen never forces, never rewrites history and commits only the paths it names.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from meshgen.errors import ConfigError, GitError

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


@cache
def _repo_class() -> Any:
    """git.Repo whose every git command is killed after GIT_TIMEOUT_SECONDS.

    GitPython runs commands without a time limit; a hook or credential prompt that
    never returns would hang meshgen, so each call gets a deadline unless it streams.
    """
    import git

    class TimedGit(git.Git):
        def execute(self, command: Any, *args: Any, **kwargs: Any) -> Any:
            streaming = kwargs.get("as_process") or kwargs.get("output_stream") is not None
            if not streaming:
                kwargs.setdefault("kill_after_timeout", GIT_TIMEOUT_SECONDS)
            return super().execute(command, *args, **kwargs)

    class TimedRepo(git.Repo):
        GitCommandWrapperType = TimedGit

    return TimedRepo


def _identity_env(repo_dir: Path) -> dict[str, str]:
    """Author/committer variables for the fallback identity, when git has none."""

    env: dict[str, str] = {}
    reader = _repo_class()(repo_dir).config_reader()
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
        repo = _repo_class().init(repo_dir, initial_branch=DEFAULT_BRANCH)
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

    return not _repo_class()(repo_dir).is_dirty(untracked_files=True)


def tracked_files(repo_dir: Path) -> Sequence[str]:

    return str(_repo_class()(repo_dir).git.ls_files()).splitlines()


# -- the canary workflow: branch, commit one file, read other refs ----------------------

# The commit author of a canary step keeps whatever identity git is configured with;
# commits never skip the user's hooks, because a hook is the user's own guard rail.


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


@contextmanager
def _errors(where: Path) -> Iterator[None]:
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


def _open(path: Path) -> Any:

    with _errors(path):
        return _repo_class()(path, search_parent_directories=True)


def _has_commits(repo: Any) -> bool:
    return bool(repo.head.is_valid())


def _current_branch(repo: Any) -> str | None:
    return None if repo.head.is_detached else str(repo.active_branch.name)


def _branch_exists(repo: Any, name: str) -> bool:
    return bool(repo.git.branch("--list", name).strip())


def plan_commit(path: Path, *, branch: str | None, allow_dirty: bool) -> CommitPlan:
    """Check that meshgen may commit `path` (on a new `branch`); raise GitError if not.

    Nothing is changed: the caller writes the file only after this succeeds.
    """
    repo = _open(path.parent)
    top = Path(str(repo.working_tree_dir))
    relpath = path.resolve().relative_to(top.resolve()).as_posix()
    with _errors(top):
        if not _has_commits(repo):
            raise GitError(
                f"the repository at {top} has no commits yet; make a first commit "
                "(git add --all && git commit), then retry"
            )
        start_branch = _current_branch(repo)
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
            if _branch_exists(repo, branch):
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
    repo = _open(plan.top)
    created = False
    locks_before = _lock_files(repo)
    try:
        with _errors(plan.top):
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
            return CommitResult(str(repo.head.commit.hexsha), _current_branch(repo))
    except BaseException:
        restore()
        # A git process killed at its deadline cannot remove its own lock files; only
        # the ones that appeared during this commit are ours to clear.
        for lock in _lock_files(repo) - locks_before:
            lock.unlink(missing_ok=True)
        with _errors(plan.top):
            repo.git.reset("-q", plan.start_commit, "--", plan.relpath)
            if created and plan.branch is not None and _branch_exists(repo, plan.branch):
                target = plan.start_branch or plan.start_commit
                if _current_branch(repo) == plan.branch:
                    # Putting things back is not a checkout the user's hooks should veto.
                    repo.git.execute(
                        ["git", "-c", "core.hooksPath=/dev/null", "checkout", "-q", target]
                    )
                repo.git.branch("-d", plan.branch)
        raise


def _lock_files(repo: Any) -> set[Path]:
    return set(Path(str(repo.git_dir)).glob("*.lock"))


def is_repository(path: Path) -> bool:
    import git

    try:
        _repo_class()(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return False
    return True


def resolve_commit(root: Path, ref: str) -> str:
    """The commit SHA `ref` names, or a GitError saying it names none."""
    repo = _open(root)
    sha = _rev_parse(repo, ref)
    if sha is None:
        raise GitError(
            f"{ref!r} names no commit in {repo.working_tree_dir}; "
            "check the name with `git branch -a` or `git log`"
        )
    return sha


def head_commit(root: Path) -> str | None:
    repo = _open(root)
    return str(repo.head.commit.hexsha) if _has_commits(repo) else None


def merge_base(root: Path, first: str, second: str) -> str | None:
    repo = _open(root)
    with _errors(root):
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
            f"MESHGEN_BASE_REF={ref!r} names no commit in {root}; set it to a branch or commit "
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
    repo = _open(root)
    if env_ref:
        sha = _rev_parse(repo, env_ref)
        if sha is None:
            raise BaseRefNotFound(env_ref, Path(str(repo.working_tree_dir)), branch)
        return env_ref, sha
    for ref in base_candidates(branch):
        sha = _rev_parse(repo, ref)
        if sha:
            return ref, sha
    return None


def _rev_parse(repo: Any, ref: str) -> str | None:
    import git

    try:
        return str(repo.git.rev_parse("--verify", "--quiet", f"{ref}^{{commit}}")).strip() or None
    except git.GitCommandError:
        return None


def export_tree(root: Path, commit: str, dest: Path) -> Path:
    """Write the files of `commit` under `dest` (nothing else is touched); returns where
    `root` lies inside the export."""
    import tarfile

    repo = _open(root)
    top = Path(str(repo.working_tree_dir)).resolve()
    inside = root.resolve().relative_to(top)
    buffer = io.BytesIO()
    with _errors(root):
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
    repo = _open(root)
    top = Path(str(repo.working_tree_dir)).resolve()
    relpath = path.resolve().relative_to(top).as_posix()
    try:
        return str(repo.git.show(f"{commit}:{relpath}", strip_newline_in_stdout=False))
    except Exception:
        return None


def commit_messages(root: Path, base: str, head: str = "HEAD") -> list[str]:
    """Full messages of the commits in base..head."""
    repo = _open(root)
    with _errors(root):
        return [str(c.message) for c in repo.iter_commits(f"{base}..{head}")]


def current_branch(root: Path) -> str | None:
    return _current_branch(_open(root))

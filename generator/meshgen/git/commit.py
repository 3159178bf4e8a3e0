"""meshgen's commits: the first commit of a new repository, a canary step's commit of
one file and a day-2 command's commit of several, checked before anything is touched.

A commit is built aside first (its blobs, tree and commit object, from a temporary
index, as `git commit --only` does) and becomes visible in one git command that creates
or moves the branch and updates the index and the files together. That command runs in
its own session with SIGINT and SIGTERM held back and inherits the repository lock, so
a Ctrl-C, a SIGTERM or a SIGKILL of meshgen leaves the repository, as the next holder of
the lock sees it, as it was before the step or with the step's one commit complete,
never in between.

Commits never skip the user's hooks (a hook is the user's own guard rail): pre-commit,
prepare-commit-msg and commit-msg run before the commit object is made, post-commit
after it. With a pre-commit hook, the files are written and staged for the hook first;
Ctrl-C and SIGTERM then roll that back, a SIGKILL leaves it staged.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from meshgen.errors import GitError
from meshgen.git.identity import FALLBACK, Author, commit_identity, first_commit_identity
from meshgen.git.plumbing import gitpython, repo_class, repo_or_none, run_git
from meshgen.git.preflight import BranchPlan, CommitPlan
from meshgen.git.signals import mark_done, shielded
from meshgen.git.worktree import bytes_needed, free_bytes

DEFAULT_BRANCH = "main"
# Scratch files of a step, in git's directory; only the holder of the repository lock
# writes them, so any found before a step are leftovers of a killed run.
SCRATCH_NAMES = ("meshgen-commit.index", "meshgen-commit.index.lock", "MESHGEN_COMMIT_MSG")


@dataclass(frozen=True)
class FirstCommit:
    sha: str
    fallback_identity: Author | None
    """meshgen's own identity, when git had none and the commit was made as meshgen."""


def enclosing_work_tree(path: Path) -> Path | None:
    """The work tree of the git repository `path` lies in, None outside git."""
    repo = repo_or_none(path)
    if repo is None or repo.working_tree_dir is None:
        return None
    return Path(repo.working_tree_dir)


def init_and_commit(repo_dir: Path, message: str) -> str:
    """`git init -b main` in `repo_dir`, add everything, commit; returns the commit SHA."""
    return first_commit(repo_dir, message).sha


def first_commit(repo_dir: Path, message: str) -> FirstCommit:
    """`git init -b main` in `repo_dir`, add everything, commit as the user or, when git
    has no identity (a fresh CI machine), as meshgen."""
    git = gitpython()
    try:
        repo = repo_class().init(repo_dir, initial_branch=DEFAULT_BRANCH)
        repo.git.add("--all")
        env, fallback = first_commit_identity(repo_dir)
        with repo.git.custom_environment(**env):
            repo.git.commit("--no-verify", "--quiet", "-m", message)
        # Read from the ref files git just wrote, without a `git cat-file` process.
        sha = git.refs.SymbolicReference.dereference_recursive(repo, "HEAD")
        return FirstCommit(str(sha), FALLBACK if fallback else None)
    except git.GitCommandError as exc:
        raise GitError(
            f"git {exc.command[1] if len(exc.command) > 1 else ''} failed in "
            f"{repo_dir}: {' '.join(str(exc.stderr).split())}"
        ) from None
    except git.GitError as exc:  # pragma: no cover - e.g. no git executable
        raise GitError(f"git failed in {repo_dir}: {exc}") from None


@dataclass(frozen=True)
class CommitResult:
    sha: str
    branch: str | None
    """The branch the commit is on (and that is checked out), None on a detached HEAD."""
    hook_changes: bool = False
    """The pre-commit hook reformatted the file and its version was committed."""
    notes: tuple[str, ...] = field(default=())


def _hook(plan: BranchPlan, name: str, *args: str, env: dict[str, str]) -> None:
    # Hooks run unshielded: a Ctrl-C must be able to stop a hook that hangs.
    run_git(
        plan.top,
        ["hook", "run", "--ignore-missing", name, "--", *args],
        env=env,
        shield=False,
        action=f"the {name} hook",
    )


def _has_hook(plan: BranchPlan, name: str) -> bool:
    hook = Path(run_git(plan.top, ["rev-parse", "--git-path", f"hooks/{name}"]).strip())
    hook = hook if hook.is_absolute() else plan.top / hook
    return hook.is_file()


def remove_scratch(git_dir: Path) -> list[Path]:
    """Delete the scratch files a killed step left in `git_dir`; returns those found."""
    found = [git_dir / name for name in SCRATCH_NAMES if (git_dir / name).exists()]
    for path in found:
        path.unlink(missing_ok=True)
    return found


@dataclass(frozen=True)
class FileChange:
    """A file of a commit: its new bytes, or None when the commit deletes it."""

    relpath: str
    """The path relative to the top of the working tree."""
    content: bytes | None
    mode: str = "100644"


def commit_file(
    plan: CommitPlan,
    message: str,
    content: str,
    *,
    write: Callable[[], None],
    restore: Callable[[], None],
    accept: Callable[[str], bool],
    author: Author | None = None,
) -> CommitResult:
    """Commit `content` as the file of `plan` (see commit_files); `accept(text)` says
    whether a pre-commit hook's rewrite of the file still holds the same change."""

    def hook_version(_relpath: str, data: bytes) -> bool:
        try:
            return accept(data.decode("utf-8"))
        except UnicodeDecodeError:
            return False

    change = FileChange(plan.relpath, content.encode("utf-8"), plan.mode)
    return commit_files(
        plan,
        message,
        [change],
        write=write,
        restore=restore,
        accept=hook_version,
        author=author,
    )


def commit_files(
    plan: BranchPlan,
    message: str,
    files: Sequence[FileChange],
    *,
    write: Callable[[], None],
    restore: Callable[[], None],
    accept: Callable[[str, bytes], bool],
    author: Author | None = None,
) -> CommitResult:
    """Commit `files` on top of the plan's start commit, on a new branch when the plan
    says so, and check them out: all of them, or none.

    When the repository has a pre-commit hook, the files are written (`write()`) and
    staged first, so that the hook checks what will be committed; if the hook rewrites
    one, its version is committed when `accept(relpath, bytes)` says it still holds the
    same change, else the commit is refused. On any failure or interruption before the
    commit becomes visible, `restore()` puts the files back and their index entries are
    reset, and the original error is raised.
    """
    identity = commit_identity(plan.top, author)
    index = plan.git_dir / SCRATCH_NAMES[0]
    message_file = plan.git_dir / SCRATCH_NAMES[2]
    scratch = {"GIT_INDEX_FILE": str(index)}
    paths = [change.relpath for change in files]
    wrote = False
    try:
        run_git(plan.top, ["read-tree", plan.start_commit], env=scratch)
        hook_changes = False
        if _has_hook(plan, "pre-commit"):
            wrote = True
            write()
            _stage(plan, paths, scratch)
            _hook(plan, "pre-commit", env=scratch)
            hook_changes = _hook_rewrites(plan, files, accept)
            if hook_changes:
                _stage(plan, paths, scratch)
        else:
            _index_objects(plan, files, scratch)
        message_file.write_text(message, encoding="utf-8")
        _hook(plan, "prepare-commit-msg", str(message_file), "message", env=scratch)
        _hook(plan, "commit-msg", str(message_file), env=scratch)
        tree = run_git(plan.top, ["write-tree"], env=scratch).strip()
        sha = run_git(
            plan.top,
            ["commit-tree", tree, "-p", plan.start_commit, "-F", str(message_file)],
            env=identity,
        ).strip()
        if not wrote:
            _check_space(plan, files)
        _publish(plan, sha, message.splitlines()[0] if message else "")
    except BaseException as cause:
        problem = _roll_back(plan, wrote, restore, paths)
        if problem is not None and isinstance(cause, Exception):
            # The cause first: it is what the user must fix; then what is left to undo.
            raise GitError(f"{_describe(cause)}; {problem}") from None
        raise
    finally:
        remove_scratch(plan.git_dir)
    with suppress(GitError):  # git ignores the exit status of post-commit too
        _hook(plan, "post-commit", env={})
    return CommitResult(sha, plan.branch or plan.start_branch, hook_changes)


def _stage(plan: BranchPlan, paths: Sequence[str], scratch: dict[str, str]) -> None:
    """`git add` the written paths (deletions too), in the user's index and the commit's."""
    run_git(plan.top, ["add", "--all", "--", *paths])
    run_git(plan.top, ["add", "--all", "--", *paths], env=scratch)


def _hook_rewrites(
    plan: BranchPlan, files: Sequence[FileChange], accept: Callable[[str, bytes], bool]
) -> bool:
    """Whether the pre-commit hook rewrote a file in a way `accept` takes; GitError when
    it changed what a file says."""
    rewrote = False
    for change in files:
        target = plan.top / change.relpath
        on_disk = target.read_bytes() if target.is_file() else None
        if on_disk == change.content:
            continue
        if on_disk is None or change.content is None or not accept(change.relpath, on_disk):
            raise GitError(
                f"the pre-commit hook changed {change.relpath} so that it no longer "
                "holds this change; nothing was committed (fix the hook, or commit "
                "without it: git commit --no-verify)"
            )
        rewrote = True
    return rewrote


def _index_objects(plan: BranchPlan, files: Sequence[FileChange], scratch: dict[str, str]) -> None:
    """Write each new file's blob and point the commit's index at it; nothing else of
    the repository changes (a blob no ref reaches is invisible, and git prunes it)."""
    entries = []
    removed = []
    for change in files:
        if change.content is None:
            removed.append(change.relpath)
            continue
        blob = run_git(
            plan.top,
            ["hash-object", "-w", "--stdin", f"--path={change.relpath}"],
            input_bytes=change.content,
        ).strip()
        entries.append(f"{change.mode} {blob}\t{change.relpath}\0")
    if entries:
        run_git(
            plan.top,
            ["update-index", "-z", "--index-info"],
            env=scratch,
            input_bytes="".join(entries).encode("utf-8"),
        )
    if removed:
        run_git(plan.top, ["update-index", "--force-remove", "--", *removed], env=scratch)


# Beyond the files: git rewrites the index beside the old one, and the ref and its log.
_PUBLISH_MARGIN = 64 * 1024


def _check_space(plan: BranchPlan, files: Sequence[FileChange]) -> None:
    """Refuse before publishing when the files would not fit on the disk.

    git's checkout writes the files one by one and does not put back those it wrote when
    a later one fails; checked now, a full disk leaves the repository as it was (the
    objects already written are unreachable, and git prunes them).
    """
    index = plan.git_dir / "index"
    sizes = [len(change.content) for change in files if change.content is not None]
    needed = bytes_needed(plan.top, sizes) + 2 * _size(index) + _PUBLISH_MARGIN
    free = free_bytes(plan.top)
    if free < needed:
        raise OSError(
            errno.ENOSPC,
            f"No space left on device: the change needs about {-(-needed // 1024)} KiB, "
            f"{free // 1024} KiB are free (nothing was changed)",
            str(plan.top),
        )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _publish(plan: BranchPlan, sha: str, subject: str) -> None:
    """Make the commit visible: one git command, shielded, in its own session."""
    reflog = {"GIT_REFLOG_ACTION": f"meshgen: {subject}"}
    if plan.branch is not None:
        # The new branch is created at the finished commit and checked out; git refuses,
        # changing nothing, when the branch appeared meanwhile.
        args = ["-c", "core.hooksPath=/dev/null", "checkout", "-q", "-b", plan.branch, sha]
    else:
        # Moves the branch, and the index and file with it; other local changes stay.
        args = ["reset", "-q", "--keep", sha]
    with shielded():
        # git inherits the repository lock (run_git): killed now, meshgen leaves git to
        # finish, and the lock is not free for the next meshgen before the switch is done.
        action = "git checkout" if plan.branch is not None else "git reset"
        run_git(plan.top, args, env=reflog, detach=True, action=action)
        mark_done()


def _roll_back(
    plan: BranchPlan, wrote: bool, restore: Callable[[], None], paths: Sequence[str]
) -> str | None:
    """Put the files and their index entries back; what went wrong doing so, or None."""
    if not wrote:
        return None
    try:
        with shielded():
            restore()
            run_git(plan.top, ["reset", "-q", plan.start_commit, "--", *paths])
    except Exception as exc:
        shown = " ".join(paths[:3]) + (" ..." if len(paths) > 3 else "")
        return (
            f"putting {shown} back failed too ({_describe(exc)}); "
            f"restore with: git restore --staged --worktree {shown}"
        )
    return None


def _describe(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return str(exc)

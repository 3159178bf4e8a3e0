"""meshgen's commits: the first commit of a new repository, and a canary step's commit
of one file, checked before anything is touched.

A step's commit is built aside first (its blob, tree and commit object, from a temporary
index, as `git commit --only` does) and becomes visible in one git command that creates
or moves the branch and updates the index and the file together. That command runs in
its own session with SIGINT and SIGTERM held back and inherits the repository lock, so
a Ctrl-C, a SIGTERM or a SIGKILL of meshgen leaves the repository, as the next holder of
the lock sees it, as it was before the step or with the step's one commit complete,
never in between.

Commits never skip the user's hooks (a hook is the user's own guard rail): pre-commit,
prepare-commit-msg and commit-msg run before the commit object is made, post-commit
after it. With a pre-commit hook, the file is written and staged for the hook first;
Ctrl-C and SIGTERM then roll that back, a SIGKILL leaves it staged.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from meshgen.errors import GitError
from meshgen.git.identity import FALLBACK, Author, commit_identity, first_commit_identity
from meshgen.git.plumbing import gitpython, repo_class, repo_or_none, run_git
from meshgen.git.preflight import CommitPlan
from meshgen.git.signals import mark_done, shielded

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
        return FirstCommit(str(repo.head.commit.hexsha), FALLBACK if fallback else None)
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


def _hook(plan: CommitPlan, name: str, *args: str, env: dict[str, str]) -> None:
    # Hooks run unshielded: a Ctrl-C must be able to stop a hook that hangs.
    run_git(
        plan.top,
        ["hook", "run", "--ignore-missing", name, "--", *args],
        env=env,
        shield=False,
        action=f"the {name} hook",
    )


def _has_hook(plan: CommitPlan, name: str) -> bool:
    hook = Path(run_git(plan.top, ["rev-parse", "--git-path", f"hooks/{name}"]).strip())
    hook = hook if hook.is_absolute() else plan.top / hook
    return hook.is_file()


def remove_scratch(git_dir: Path) -> list[Path]:
    """Delete the scratch files a killed step left in `git_dir`; returns those found."""
    found = [git_dir / name for name in SCRATCH_NAMES if (git_dir / name).exists()]
    for path in found:
        path.unlink(missing_ok=True)
    return found


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
    """Commit `content` as the file of `plan`, on a new branch when the plan says so.

    When the repository has a pre-commit hook, the file is written (`write()`) and staged
    first, so that the hook checks what will be committed; if the hook reformats it, the
    hook's version is committed when `accept(text)` says it still holds the same change,
    else the step is refused. On any failure or interruption before the commit becomes
    visible, `restore()` puts the file back and the index entry is reset, and the
    original error is raised.
    """
    identity = commit_identity(plan.top, author)
    index = plan.git_dir / SCRATCH_NAMES[0]
    message_file = plan.git_dir / SCRATCH_NAMES[2]
    scratch = {"GIT_INDEX_FILE": str(index)}
    wrote = False
    try:
        run_git(plan.top, ["read-tree", plan.start_commit], env=scratch)
        hook_changes = False
        if _has_hook(plan, "pre-commit"):
            wrote = True
            write()
            run_git(plan.top, ["add", "--", plan.relpath])
            run_git(plan.top, ["add", "--", plan.relpath], env=scratch)
            _hook(plan, "pre-commit", env=scratch)
            on_disk = plan.path.read_text(encoding="utf-8")
            if on_disk != content:
                if not accept(on_disk):
                    raise GitError(
                        f"the pre-commit hook changed {plan.relpath} so that it no longer "
                        "holds this change; nothing was committed (fix the hook, or commit "
                        "without it: git commit --no-verify)"
                    )
                hook_changes = True
                run_git(plan.top, ["add", "--", plan.relpath])
                run_git(plan.top, ["add", "--", plan.relpath], env=scratch)
        else:
            blob = run_git(
                plan.top,
                ["hash-object", "-w", "--stdin", f"--path={plan.relpath}"],
                input_bytes=content.encode("utf-8"),
            ).strip()
            run_git(
                plan.top,
                ["update-index", "--cacheinfo", f"{plan.mode},{blob},{plan.relpath}"],
                env=scratch,
            )
        message_file.write_text(message, encoding="utf-8")
        _hook(plan, "prepare-commit-msg", str(message_file), "message", env=scratch)
        _hook(plan, "commit-msg", str(message_file), env=scratch)
        tree = run_git(plan.top, ["write-tree"], env=scratch).strip()
        sha = run_git(
            plan.top,
            ["commit-tree", tree, "-p", plan.start_commit, "-F", str(message_file)],
            env=identity,
        ).strip()
        _publish(plan, sha, message.splitlines()[0] if message else "")
    except BaseException as cause:
        problem = _roll_back(plan, wrote, restore)
        if problem is not None and isinstance(cause, Exception):
            # The cause first: it is what the user must fix; then what is left to undo.
            raise GitError(f"{_describe(cause)}; {problem}") from None
        raise
    finally:
        remove_scratch(plan.git_dir)
    with suppress(GitError):  # git ignores the exit status of post-commit too
        _hook(plan, "post-commit", env={})
    return CommitResult(sha, plan.branch or plan.start_branch, hook_changes)


def _publish(plan: CommitPlan, sha: str, subject: str) -> None:
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
        run_git(plan.top, args, env=reflog, detach=True)
        mark_done()


def _roll_back(plan: CommitPlan, wrote: bool, restore: Callable[[], None]) -> str | None:
    """Put the file and its index entry back; what went wrong doing so, or None."""
    if not wrote:
        return None
    try:
        with shielded():
            restore()
            run_git(plan.top, ["reset", "-q", plan.start_commit, "--", plan.relpath])
    except Exception as exc:
        return (
            f"putting {plan.relpath} back failed too ({_describe(exc)}); "
            f"restore it with: git restore --staged --worktree {plan.relpath}"
        )
    return None


def _describe(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return str(exc)

"""Running a planned step: under the repository lock, write it, and commit it when asked."""

from __future__ import annotations

import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from meshgen import yamlio
from meshgen.environment_file import whole_weights
from meshgen.errors import ConfigError, GitError
from meshgen.git.commit import CommitResult, commit_file
from meshgen.git.identity import Author
from meshgen.git.preflight import plan_commit
from meshgen.git.transaction import locked_change
from meshgen.repo import ENVIRONMENTS_DIR, find_root
from meshgen.traffic import guardrails
from meshgen.traffic.envfile import EnvFile
from meshgen.traffic.steps.edit import Edit, Target, locate
from meshgen.traffic.steps.rails import check_guardrails, load_guardrails


@dataclass(frozen=True)
class StepOptions:
    """How a step is written: the command line's choices, checked."""

    commit: bool = False
    branch: str | None = None
    allow_dirty: bool = False
    message: str | None = None
    author: Author | None = None
    force: bool = False
    base_ref: str | None = None
    """$MESHGEN_BASE_REF: what guard rails measure a step against (see traffic.guardrails)."""


@dataclass(frozen=True)
class Applied:
    edit: Edit
    written: bool
    commit: CommitResult | None = None
    notes: tuple[str, ...] = ()
    """What the user should know: leftovers cleared, a commit straight to the base branch."""


def commit_message(edit: Edit, subject: str | None = None) -> str:
    lines = [
        subject or edit.subject,
        "",
        "Made with:",
        "",
        f"    {edit.command}",
        "",
        f"Weights in {edit.target.relpath} after this commit:",
    ]
    lines.extend(f"  {version}: {weight}%" for version, weight in edit.after.items())
    if edit.overridden:
        lines += ["", "Guard rails overridden with --force:"]
        lines.extend(f"- {violation}" for violation in edit.overridden)
        lines += ["", guardrails.override_trailer(edit.overridden)]
    return "\n".join(lines) + "\n"


def run_step(
    repo_path: Path,
    environment: str,
    app: str | None,
    plan: Callable[[Target], Edit],
    options: StepOptions,
) -> Applied:
    """Plan, check and apply one step while holding the repository lock.

    The file is read under the lock, so a relative step (a shift) starts from what the
    previous writer left; a step that waited for another must still find the branch it
    was started on.
    """
    root = find_root(repo_path)
    with locked_change(root, commit=options.commit, temporaries=root / ENVIRONMENTS_DIR) as notes:
        target = locate(repo_path, environment, app)
        edit = check_guardrails(plan(target), force=options.force, base_ref=options.base_ref)
        applied = apply(edit, options)
    return Applied(applied.edit, applied.written, applied.commit, (*notes, *applied.notes))


def _refuse_read_only(path: Path) -> None:
    if not path.stat().st_mode & stat.S_IWUSR:
        raise ConfigError(
            "the file is read-only; meshgen does not replace a file protected on purpose "
            f"(make it writable first: chmod u+w {path.name})",
            path=path,
        )


def _same_change(edit: Edit) -> Callable[[str], bool]:
    """Whether a pre-commit hook's rewrite of the file still holds exactly `edit`."""

    def accept(text: str) -> bool:
        try:
            env = EnvFile.parse(text, edit.target.path)
        except ConfigError:
            return False
        planned = EnvFile.parse(edit.new_text, edit.target.path)
        same_versions = env.version_names == planned.version_names
        return same_versions and whole_weights(env.raw_traffic) == dict(edit.after)

    return accept


def apply(edit: Edit, options: StepOptions) -> Applied:
    """Write the edit; with `options.commit`, on a new branch if given, commit only it."""
    path = edit.target.path
    if yamlio.read_text(path) != edit.old_text:
        raise ConfigError("the file changed while meshgen was editing it; run again", path=path)
    if edit.changed:
        _refuse_read_only(path)
    if not options.commit:
        if edit.changed:
            yamlio.atomic_write_text(path, edit.new_text)
        return Applied(edit, written=edit.changed)
    if not edit.changed:
        raise GitError(
            f"nothing to commit: {edit.target.relpath} already has these values "
            f"({', '.join(f'{v}={w}' for v, w in edit.after.items())})"
        )
    plan = plan_commit(path, branch=options.branch, allow_dirty=options.allow_dirty)
    result = commit_file(
        plan,
        commit_message(edit, options.message),
        edit.new_text,
        write=lambda: yamlio.atomic_write_text(path, edit.new_text),
        restore=lambda: yamlio.atomic_write_text(path, edit.old_text),
        accept=_same_change(edit),
        author=options.author,
    )
    notes: list[str] = []
    base = load_guardrails(edit.target.repo).base_branch
    if options.branch is None and plan.start_branch == base:
        notes.append(
            f"committed straight to {base}, the branch pull requests merge into; "
            "use --branch NAME to propose the change for review instead"
        )
    if result.hook_changes:
        notes.append(
            f"the pre-commit hook reformatted {edit.target.relpath}; committed its version"
        )
    return Applied(edit, written=True, commit=result, notes=tuple(notes))

"""A day-2 change to a repository: planned as files to write and delete, validated in a
scratch copy of the repository, then published (written, or committed and checked out)
all or nothing, or refused untouched; under the repository lock, as a canary step."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from meshgen.errors import ConfigError, UserError
from meshgen.git.commit import CommitResult, FileChange, commit_files
from meshgen.git.identity import Author
from meshgen.git.preflight import ChangePlan, git_dir_of, plan_change
from meshgen.git.transaction import locked_change
from meshgen.git.worktree import publish_files
from meshgen.repo import find_root

if TYPE_CHECKING:
    from meshgen.validate.findings import Report

# Findings shown in a refusal; the rest are counted.
SHOWN_FINDINGS = 8


@dataclass(frozen=True)
class Changeset:
    """What a command would change: file contents to write, paths to delete."""

    root: Path
    subject: str
    command: str
    writes: Mapping[str, str] = field(default_factory=dict)
    deletes: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    """Files written with conflict markers, for the team to resolve."""
    notes: tuple[str, ...] = ()

    def changed_paths(self) -> list[str]:
        current = {
            path
            for path, text in self.writes.items()
            if not (self.root / path).is_file() or _read(self.root / path) != text
        }
        return sorted(current | {p for p in self.deletes if (self.root / p).exists()})


class Refused(UserError):
    """The change would leave the repository invalid; nothing was written."""

    exit_code = 1


@dataclass(frozen=True)
class NothingToDo:
    """The repository already is what the command would make it."""

    message: str


@dataclass(frozen=True)
class Applied:
    changeset: Changeset
    paths: tuple[str, ...]
    commit: str | None = None
    branch: str | None = None
    notes: tuple[str, ...] = ()
    """Leftovers of killed runs removed before the change."""


Validator = Callable[[Path], "Report"]
Planner = Callable[[], "Changeset | NothingToDo"]


def run(
    root: Path,
    planner: Planner,
    validator: Validator | None,
    *,
    commit: bool,
    branch: str | None,
    author: Author | None = None,
) -> Applied | NothingToDo:
    """Plan, validate and publish one change while holding the repository lock.

    The plan reads the repository under the lock, so it starts from what the previous
    writer left. The result is validated in a scratch copy, unless `validator` is None or
    the change leaves conflict markers (a template update, which cannot parse until the
    team resolves them); then it is published all or nothing: committed (`commit`, or
    `branch`: on that new branch) and checked out by one git command, or its files put
    in place by one process (see git.worktree).
    """
    commit = commit or branch is not None
    with locked_change(find_root(root), commit=commit) as notes:
        changeset = planner()
        if isinstance(changeset, NothingToDo):
            return changeset
        paths = changeset.changed_paths()
        if not paths:
            raise ConfigError(f"nothing to change: {changeset.subject} is already done")
        plan = plan_change(changeset.root, paths, branch=branch) if commit else None
        before = {path: _snapshot(changeset.root / path) for path in paths}
        if validator is not None and not changeset.conflicts:
            _validate_in_scratch(changeset, validator)
        for path, content in before.items():
            if _snapshot(changeset.root / path) != content:
                raise ConfigError(
                    "the file changed while meshgen was checking the change; run again",
                    path=changeset.root / path,
                )
        changes = {p: _encoded(changeset.writes.get(p)) for p in paths}
        sha = None if plan is None else _commit(plan, changeset, changes, before, author).sha
        if plan is None:
            publish_files(changeset.root, changes, git_dir=git_dir_of(changeset.root))
    return Applied(changeset, tuple(paths), sha, branch, tuple(notes))


def _encoded(text: str | None) -> bytes | None:
    return None if text is None else text.encode("utf-8")


def _commit(
    plan: ChangePlan,
    changeset: Changeset,
    changes: Mapping[str, bytes | None],
    before: Mapping[str, bytes | None],
    author: Author | None,
) -> CommitResult:
    prefix = plan.top.resolve()
    inside = changeset.root.resolve().relative_to(prefix)
    files = [
        FileChange(
            (inside / path).as_posix(),
            data,
            plan.modes[(inside / path).as_posix()],
        )
        for path, data in changes.items()
    ]
    return commit_files(
        plan,
        _message(changeset),
        files,
        write=lambda: publish_files(changeset.root, changes, git_dir=plan.git_dir, final=False),
        restore=lambda: publish_files(changeset.root, before, git_dir=plan.git_dir, final=False),
        accept=lambda _path, _data: False,
        author=author,
    )


def _message(changeset: Changeset) -> str:
    lines = [changeset.subject, "", "Made with:", "", f"    {changeset.command}"]
    if changeset.conflicts:
        lines += ["", "Conflicts left for review (resolve the markers, then commit):"]
        lines += [f"  {path}" for path in changeset.conflicts]
    return "\n".join(lines) + "\n"


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _snapshot(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def _write(changeset: Changeset, paths: list[str]) -> None:
    """Write the change into a scratch copy of the repository (for validation)."""
    for path in paths:
        target = changeset.root / path
        if path in changeset.writes:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(changeset.writes[path], encoding="utf-8")
        else:
            target.unlink(missing_ok=True)
            _prune_empty(target.parent, changeset.root)


def _prune_empty(folder: Path, root: Path) -> None:
    """Remove the folders a deletion left empty, as git does."""
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def _validate_in_scratch(changeset: Changeset, validator: Validator) -> None:
    from meshgen.validate.findings import Severity

    scratch = Path(tempfile.mkdtemp(prefix="meshgen-day2-"))
    try:
        copy = scratch / changeset.root.name
        shutil.copytree(changeset.root, copy, ignore=shutil.ignore_patterns(".git"), symlinks=True)
        _write(Changeset(copy, "", "", changeset.writes, changeset.deletes), _all(changeset))
        report = validator(copy)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    errors = [f for f in report.findings if f.severity is Severity.ERROR]
    if not errors:
        return
    shown = [
        f"  {f.location}: {f.rule.id} {f.severity.value}: {f.message}"
        for f in errors[:SHOWN_FINDINGS]
    ]
    more = len(errors) - len(shown)
    listed = "\n".join(shown + ([f"  ... and {more} more"] if more > 0 else []))
    raise Refused(f"refused, nothing changed: {changeset.subject} would not validate:\n{listed}")


def _all(changeset: Changeset) -> list[str]:
    return sorted({*changeset.writes, *changeset.deletes})

"""A day-2 change to a repository: planned as files to write and delete, validated in a
scratch copy of the repository, then written (and committed) or refused untouched."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from meshgen import yamlio
from meshgen.day2 import gitops
from meshgen.errors import ConfigError, UserError

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
class Applied:
    changeset: Changeset
    paths: tuple[str, ...]
    commit: str | None = None
    branch: str | None = None


Validator = Callable[[Path], "Report"]


def apply(
    changeset: Changeset,
    validator: Validator | None,
    *,
    commit: bool,
    branch: str | None,
) -> Applied:
    """Validate the changed repository in a scratch copy, then write (and commit) it.

    `validator` is skipped when None (a template update with conflict markers, which
    cannot parse until the team resolves them).
    """
    paths = changeset.changed_paths()
    if not paths:
        raise ConfigError(f"nothing to change: {changeset.subject} is already done")
    plan = gitops.plan(changeset.root, paths, branch=branch) if commit or branch else None
    if validator is not None:
        _validate_in_scratch(changeset, validator)
    previous = {path: _snapshot(changeset.root / path) for path in paths}
    try:
        _write(changeset, paths)
        sha = gitops.commit(plan, paths, _message(changeset)) if plan is not None else None
    except BaseException:
        _restore(changeset.root, previous)
        raise
    return Applied(changeset, tuple(paths), sha, branch if plan is not None else None)


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
    for path in paths:
        target = changeset.root / path
        if path in changeset.writes:
            target.parent.mkdir(parents=True, exist_ok=True)
            yamlio.atomic_write_text(target, changeset.writes[path])
        else:
            target.unlink(missing_ok=True)
            _prune_empty(target.parent, changeset.root)


def _prune_empty(folder: Path, root: Path) -> None:
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def _restore(root: Path, previous: Mapping[str, bytes | None]) -> None:
    for path, content in previous.items():
        target = root / path
        if content is None:
            target.unlink(missing_ok=True)
            _prune_empty(target.parent, root)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)


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

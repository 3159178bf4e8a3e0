"""Writing a planned step, and committing it when asked."""

from __future__ import annotations

from dataclasses import dataclass

from meshgen import yamlio
from meshgen.errors import ConfigError, GitError
from meshgen.git.commit import CommitResult, commit_file, plan_commit
from meshgen.traffic import guardrails
from meshgen.traffic.steps.edit import Edit


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


@dataclass(frozen=True)
class Applied:
    edit: Edit
    written: bool
    commit: CommitResult | None = None


def apply(
    edit: Edit,
    *,
    commit: bool,
    branch: str | None = None,
    allow_dirty: bool = False,
    message: str | None = None,
) -> Applied:
    """Write the edit; with `commit`, on a new `branch` if given, commit only that file."""
    path = edit.target.path
    if yamlio.read_text(path) != edit.old_text:
        raise ConfigError("the file changed while meshgen was editing it; run again", path=path)
    if not commit:
        if edit.changed:
            yamlio.atomic_write_text(path, edit.new_text)
        return Applied(edit, written=edit.changed)
    if not edit.changed:
        raise GitError(
            f"nothing to commit: {edit.target.relpath} already has these values "
            f"({', '.join(f'{v}={w}' for v, w in edit.after.items())})"
        )
    plan = plan_commit(path, branch=branch, allow_dirty=allow_dirty)
    result = commit_file(
        plan,
        commit_message(edit, message),
        write=lambda: yamlio.atomic_write_text(path, edit.new_text),
        restore=lambda: yamlio.atomic_write_text(path, edit.old_text),
    )
    return Applied(edit, written=True, commit=result)

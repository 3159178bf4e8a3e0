"""What the commands that change a repository's structure share (`env`, `app`,
`platform`, `update`): --branch/--commit, validation before writing, the report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from meshgen.cli.options import helm_binary_option

if TYPE_CHECKING:
    from meshgen.day2.changes import Applied, NothingToDo, Planner
    from meshgen.validate.findings import Report

F = TypeVar("F", bound=Callable[..., Any])

CHANGE_EPILOG = (
    "The result is validated in a scratch copy before anything is written; a change that "
    "would not validate is refused and the repository stays as it was; one that does is "
    "written all at once, or committed and checked out by one git command. With --branch, "
    "meshgen commits on a new branch and leaves you on it, ready to push. "
    "Exit codes: 0 done, 1 refused (findings), 2 could not do it."
)


def change_options(function: F) -> F:
    for option in reversed(
        [
            click.option(
                "--branch",
                metavar="NAME",
                help="Create branch NAME from HEAD, switch to it and commit the change there.",
            ),
            click.option(
                "--commit",
                is_flag=True,
                help="Commit the change on the current branch [default: write files only].",
            ),
            click.option(
                "--author",
                metavar="'NAME <EMAIL>'",
                help="Author of the commit [default: git's user.name and user.email; "
                "required when git has none].",
            ),
            helm_binary_option,
        ]
    ):
        function = option(function)
    return function


def validator(helm_binary: str | None) -> Callable[[Path], Report]:
    def run(root: Path) -> Report:
        from meshgen.helm.select import select_backend
        from meshgen.validate.engine import validate_repo
        from meshgen.validate.options import ValidateOptions

        return validate_repo(root, select_backend(helm_binary), ValidateOptions())

    return run


def run_change(
    planner: Planner,
    *,
    branch: str | None,
    commit: bool,
    author: str | None,
    helm_binary: str | None,
) -> Applied | NothingToDo:
    """Plan, validate, write and (maybe) commit a change, then say what happened."""
    from meshgen.day2.changes import NothingToDo, run
    from meshgen.git.identity import Author
    from meshgen.git.signals import step_signals

    if author is not None and not (commit or branch):
        raise click.UsageError("--author needs a commit; add --commit or --branch NAME")
    with step_signals():
        applied = run(
            Path(),
            planner,
            validator(helm_binary),
            commit=commit,
            branch=branch,
            author=Author.parse(author) if author is not None else None,
        )
    if isinstance(applied, NothingToDo):
        click.echo(applied.message)
        return applied
    changeset = applied.changeset
    for note in applied.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(changeset.subject)
    for path in applied.paths:
        verb = "wrote" if path in changeset.writes else "deleted"
        click.echo(f"  {verb} {path}")
    for note in changeset.notes:
        click.echo(f"note: {note}", err=True)
    if applied.commit is None:
        click.echo("Not committed: review with `git status` and `git diff`, then commit.")
    elif applied.branch is not None:
        click.echo(
            f"Committed {applied.commit[:12]} on new branch {applied.branch}; you are on it."
        )
        click.echo(f"Next: git push -u origin {applied.branch}, then open a pull request.")
    else:
        click.echo(f"Committed {applied.commit[:12]}.")
    return applied

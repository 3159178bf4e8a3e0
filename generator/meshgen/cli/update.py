"""`meshgen update`: the current template's changes, carried into the repository."""

from __future__ import annotations

import os
from pathlib import Path

import click

from meshgen.cli.changes import change_options, run_change


@click.command(
    epilog="Without conflicts the result is validated before anything is written, and "
    "refused untouched when it would not validate. Conflicts are written with git's "
    "markers (and committed with --branch/--commit, for review on the pull request) and "
    "listed. Exit codes: 0 done or nothing to do, 1 conflicts to resolve or refused, "
    "2 could not do it."
)
@change_options
def update(branch: str | None, commit: bool, author: str | None, helm_binary: str | None) -> None:
    """Bring the repository to the current template, keeping the team's edits.

    Three-way: the template version meshgen.yaml records, rendered with the repository's
    answers, is the base; the current template, rendered with the same answers, brings
    its changes; the repository keeps its own.

    \b
    Example:
      meshgen update --branch update/template
    """
    from meshgen.cache_folder import template_cache
    from meshgen.day2.changes import NothingToDo
    from meshgen.day2.update import plan_update

    compiled = template_cache(os.environ)
    applied = run_change(
        lambda: plan_update(Path(), template_cache=compiled),
        branch=branch,
        commit=commit,
        author=author,
        helm_binary=helm_binary,
    )
    if isinstance(applied, NothingToDo) or not applied.changeset.conflicts:
        return
    conflicts = applied.changeset.conflicts
    click.echo(
        f"{len(conflicts)} file(s) with conflicts: resolve the <<<<<<< markers, "
        "then `meshgen validate` and commit:",
        err=True,
    )
    for path in conflicts:
        click.echo(f"  {path}", err=True)
    raise SystemExit(1)

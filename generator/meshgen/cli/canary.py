"""`meshgen shift`, `meshgen promote`, `meshgen versions add|retire`, and what every
canary-step command shares: where the file is, and how the change is written and committed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from meshgen.cli.grammar import SuggestingGroup

if TYPE_CHECKING:
    from meshgen.traffic.steps.edit import Edit, Target

F = TypeVar("F", bound=Callable[..., Any])

_STEP_OPTIONS = [
    click.option("--app", metavar="APP", help="App to edit [default: the first in meshgen.yaml]."),
    click.option(
        "--branch",
        metavar="NAME",
        help="Create branch NAME from HEAD, switch to it and commit the change there.",
    ),
    click.option(
        "--commit/--no-commit",
        default=None,
        help="Commit the environment file [default: commit when --branch is given].",
    ),
    click.option(
        "--message", "-m", metavar="TEXT", help="Commit subject [default: describes the change]."
    ),
    click.option(
        "--allow-dirty",
        is_flag=True,
        help="Commit even with other uncommitted changes; only the environment file is committed.",
    ),
    click.option(
        "--force",
        is_flag=True,
        help="Override the guard rails of meshgen.yaml; the commit message records it.",
    ),
    click.option(
        "--author",
        metavar="'NAME <EMAIL>'",
        help="Author of the commit [default: git's user.name and user.email; required "
        "when git has none].",
    ),
    click.option(
        "--push",
        is_flag=True,
        help="Push the new branch to origin (needs --branch); prints the pull-request "
        "link for a GitHub remote.",
    ),
]

STEP_EPILOG = (
    "With --branch, meshgen leaves you on the new branch, ready to push; the branch you "
    "came from is unchanged. A refused change leaves the file and the repository as they "
    "were. Exit codes: 0 done, 1 a guard rail refused the change, 2 could not do it."
)


def step_options(function: F) -> F:
    for option in reversed(_STEP_OPTIONS):
        function = option(function)
    return function


def run_step(
    plan: Callable[[Target], Edit],
    *,
    environment: str,
    app: str | None,
    branch: str | None,
    commit: bool | None,
    message: str | None,
    allow_dirty: bool,
    force: bool,
    author: str | None,
    push: bool,
) -> None:
    """Plan, check, write and (maybe) commit one change, then say what happened."""
    import os

    from meshgen.git.identity import Author
    from meshgen.git.refs import ENV_BASE_REF
    from meshgen.git.signals import step_signals
    from meshgen.traffic import guardrails
    from meshgen.traffic.steps.write import StepOptions
    from meshgen.traffic.steps.write import run_step as run

    should_commit = commit if commit is not None else branch is not None
    if branch is not None and not should_commit:
        raise click.UsageError("--branch needs a commit; drop --no-commit")
    if push and branch is None:
        raise click.UsageError("--push needs --branch NAME: meshgen pushes only a branch it made")
    if author is not None and not should_commit:
        raise click.UsageError("--author needs a commit; add --commit or --branch NAME")
    options = StepOptions(
        commit=should_commit,
        branch=branch,
        allow_dirty=allow_dirty,
        message=message,
        author=Author.parse(author) if author is not None else None,
        force=force,
        base_ref=os.environ.get(ENV_BASE_REF) or None,
    )
    with step_signals():
        applied = run(Path(), environment, app, plan, options)
    edit, target = applied.edit, applied.edit.target
    for note in applied.notes:
        click.echo(f"note: {note}", err=True)
    if not applied.written:
        current = ", ".join(f"{v}={w}" for v, w in edit.after.items())
        click.echo(f"{target.relpath} already has {current}; nothing written")
        return
    click.echo(edit.subject)
    for violation in edit.overridden:
        click.echo(f"note: guard rail overridden with --force: {violation}", err=True)
    if applied.commit is None:
        click.echo(f"Wrote {target.relpath}, not committed: review with `git diff`, then commit.")
        if edit.overridden:
            trailer = guardrails.override_trailer(edit.overridden)
            click.echo(
                f"note: end the commit message with `{trailer}`, or validate reports it",
                err=True,
            )
        return
    sha = applied.commit.sha[:12]
    if branch is None:
        click.echo(f"Committed {sha} on branch {applied.commit.branch}.")
        return
    click.echo(f"Committed {sha} on new branch {branch}; you are now on it.")
    if not push:
        click.echo(f"Next: git push -u origin {branch}, then open a pull request.")
        return
    from meshgen.git.remote import push_branch

    pushed = push_branch(target.repo.root, branch)
    click.echo(f"Pushed {branch} to {pushed.remote}.")
    if pushed.pull_request_url:
        click.echo(f"Open the pull request: {pushed.pull_request_url}")
    else:
        click.echo("Next: open a pull request for it.")


@click.command(epilog=STEP_EPILOG)
@click.argument("environment", metavar="ENV")
@click.option("--to", "to", required=True, metavar="VERSION", help="The version that gains.")
@click.option(
    "--step",
    required=True,
    type=int,
    metavar="N",
    help="Points (percent) to move; at most up to 100.",
)
@step_options
def shift(environment: str, to: str, step: int, **options: Any) -> None:
    """Move N points of ENV's traffic to VERSION, from the versions with the most traffic.

    \b
    Examples:
      meshgen shift staging --to v2 --step 10 --branch canary/staging-v2-10
      meshgen shift production --to v2 --step 25 --commit
    """
    from meshgen.traffic.steps.weights import plan_shift

    run_step(lambda target: plan_shift(target, to, step), environment=environment, **options)


@click.command(epilog=STEP_EPILOG)
@click.argument("environment", metavar="ENV")
@click.argument("version", metavar="VERSION")
@step_options
def promote(environment: str, version: str, **options: Any) -> None:
    """Give VERSION 100 % of ENV's traffic and every other version 0 %.

    \b
    Example:
      meshgen promote staging v2 --branch promote/staging-v2
    """
    from meshgen.traffic.steps.weights import plan_promote

    run_step(lambda target: plan_promote(target, version), environment=environment, **options)


@click.group(cls=SuggestingGroup)
def versions() -> None:
    """Add a release to an environment, or retire one that takes no traffic.

    \b
    Examples:
      meshgen versions add staging v3 --image-tag 1.3.0 --branch release/staging-v3
      meshgen versions retire staging v1 --branch retire/staging-v1
    """


def _immutable_tag(ctx: click.Context, param: click.Parameter, value: str) -> str:
    # The same test as `meshgen validate`'s MG113, made before anything is written.
    if value.lower() == "latest":
        raise click.BadParameter(
            f"{value!r} can change under a running version; give a release tag such as 1.3.0"
        )
    return value


@versions.command("add", epilog=STEP_EPILOG)
@click.argument("environment", metavar="ENV")
@click.argument("version", metavar="VERSION")
@click.option(
    "--image-tag",
    required=True,
    metavar="TAG",
    callback=_immutable_tag,
    help="Image tag of the new version: a release, never `latest`.",
)
@click.option(
    "--image-repository",
    metavar="IMAGE",
    help="Image repository [default: the one of the last listed version].",
)
@click.option(
    "--replicas",
    type=click.IntRange(min=0),
    help="Replicas [default: those of the last listed version].",
)
@step_options
def versions_add(
    environment: str,
    version: str,
    image_tag: str,
    image_repository: str | None,
    replicas: int | None,
    **options: Any,
) -> None:
    """Add VERSION to ENV at weight 0: its Deployment and subset exist before it takes
    traffic.

    \b
    Example:
      meshgen versions add staging v3 --image-tag 1.3.0 --branch release/staging-v3
    """
    from meshgen.traffic.steps.versions import plan_add

    run_step(
        lambda target: plan_add(target, version, image_tag, image_repository, replicas),
        environment=environment,
        **options,
    )


@versions.command("retire", epilog=STEP_EPILOG)
@click.argument("environment", metavar="ENV")
@click.argument("version", metavar="VERSION")
@step_options
def versions_retire(environment: str, version: str, **options: Any) -> None:
    """Remove VERSION from ENV; refused while it still has traffic (weight above 0).

    \b
    Example:
      meshgen versions retire staging v1 --branch retire/staging-v1
    """
    from meshgen.traffic.steps.versions import plan_retire

    run_step(lambda target: plan_retire(target, version), environment=environment, **options)

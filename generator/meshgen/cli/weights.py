"""`meshgen weights show` and `meshgen weights set`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from meshgen.cli.canary import STEP_EPILOG, promote, run_step, shift, step_options
from meshgen.cli.grammar import SuggestingGroup


@click.group(cls=SuggestingGroup)
def weights() -> None:
    """Show, set, shift or promote the canary traffic weights of the environments.

    `weights shift` and `weights promote` are `meshgen shift` and `meshgen promote`.

    \b
    Examples:
      meshgen weights show
      meshgen weights set staging v1=90 v2=10 --branch canary/staging-v2-10
      meshgen weights shift staging --to v2 --step 10
    """


# The canary verbs, also where people look for them.
weights.add_command(shift)
weights.add_command(promote)


@weights.command("show")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option("--app", metavar="APP", help="Only this app [default: every app].")
def show(output_format: str, app: str | None) -> None:
    """Every environment x version with its weight and image tag, from the files on disk.

    Exit code 1 when some environment's weights break the rules (see `meshgen validate`).

    \b
    Examples:
      meshgen weights show
      meshgen -C ../acme-mesh weights show --format json
      meshgen weights show --app checkout
    """
    from meshgen.report.weights import WEIGHTS_RENDERERS
    from meshgen.traffic.table import weight_table

    table = weight_table(Path(), app)
    click.echo(WEIGHTS_RENDERERS[output_format](table), nl=False)
    broken = [entry for entry in table if entry.problems]
    for entry in broken:
        for problem in entry.problems:
            click.echo(f"{entry.file}: {problem}", err=True)
    if broken:
        click.get_current_context().exit(1)


@weights.command("set", epilog=STEP_EPILOG)
@click.argument("environment", metavar="ENV")
@click.argument("assignments", metavar="VERSION=WEIGHT...", nargs=-1, required=True)
@step_options
def set_weights(environment: str, assignments: tuple[str, ...], **options: Any) -> None:
    """Set traffic weights in ENV's environment file, changing only those numbers.

    Versions not named keep their weight; the result must sum to 100 over versions that
    exist, and pass the guard rails of meshgen.yaml, or nothing is written.

    \b
    Examples:
      meshgen weights set staging v1=90 v2=10
      meshgen weights set staging v1=90 v2=10 --branch canary/staging-v2-10
      meshgen weights set production v1=0 v2=100 --commit -m "production: v2 takes all traffic"
    """
    from meshgen.traffic.steps.weights import parse_assignments, plan_set

    chosen = parse_assignments(assignments)
    run_step(lambda target: plan_set(target, chosen), environment=environment, **options)

"""`meshgen validate` and `meshgen rules`."""

from __future__ import annotations

from pathlib import Path

import click

from meshgen.cli.options import REPO_ARGUMENT, helm_binary_option


@click.command()
@REPO_ARGUMENT
@click.option(
    "--env",
    "environments",
    multiple=True,
    metavar="ENV",
    help="Validate only this environment; repeatable.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Report format.",
)
@click.option(
    "--select",
    multiple=True,
    metavar="RULE",
    help="Run only these rules (ID, ID prefix such as MG1, or name); repeatable.",
)
@click.option("--ignore", multiple=True, metavar="RULE", help="Skip these rules; repeatable.")
@click.option("--strict", is_flag=True, help="Warnings fail the run too.")
@helm_binary_option
def validate(
    repo: Path,
    environments: tuple[str, ...],
    output_format: str,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    strict: bool,
    helm_binary: str | None,
) -> None:
    """Prove a generated repository right, offline.

    Checks meshgen.yaml and every environment file against their schemas and the weight
    rules, renders and lints every environment with Helm, and validates each rendered
    object against the strict Kubernetes schemas of the cluster's version. Each finding
    names the file and line, a rule ID (see `meshgen rules`) and what to do.

    Exit code 1 when an error is found (or a warning, with --strict).

    \b
    Examples:
      meshgen validate
      meshgen validate ../acme-mesh --env staging --format json
      meshgen validate --ignore MG202 --strict
    """
    from meshgen.helm import select_backend
    from meshgen.repo import find_root
    from meshgen.report import render_json, render_text
    from meshgen.validate.engine import select_rules, validate_repo

    root = find_root(repo)
    report = validate_repo(
        root,
        select_backend(helm_binary),
        environments=environments,
        rules=select_rules(select, ignore),
    )
    click.echo(render_json(report) if output_format == "json" else render_text(report), nl=False)
    if report.failed(strict=strict):
        click.get_current_context().exit(1)


@click.command()
def rules() -> None:
    """List every validation rule: ID, name, severity, and how to fix what it finds.

    \b
    Example:
      meshgen rules
    """
    from meshgen.validate.model import all_rules

    for rule in all_rules():
        click.echo(f"{rule.id}  {rule.name}  [{rule.severity.value}]")
        click.echo(f"    {rule.summary}")
        if rule.fix:
            click.echo(f"    Fix: {rule.fix}")

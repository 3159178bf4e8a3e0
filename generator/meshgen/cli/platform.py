"""`meshgen platform upgrade`: move the pins of a platform component."""

from __future__ import annotations

from pathlib import Path

import click

from meshgen.cli.changes import CHANGE_EPILOG, change_options, run_change
from meshgen.cli.grammar import SuggestingGroup


@click.group(cls=SuggestingGroup)
def platform() -> None:
    """The platform every cluster runs: Istio, cert-manager and their pinned charts.

    \b
    Example:
      meshgen platform upgrade istio 1.30.4 --env staging --branch platform/istio-staging
    """


@platform.command(epilog=CHANGE_EPILOG)
@click.argument("component")
@click.argument("version")
@click.option("--env", "environment", metavar="ENV", help="Upgrade ENV only [default: all].")
@click.option(
    "--force", is_flag=True, help="Upgrade out of the order of guardrails.order in meshgen.yaml."
)
@change_options
def upgrade(
    component: str,
    version: str,
    environment: str | None,
    force: bool,
    branch: str | None,
    commit: bool,
    author: str | None,
    helm_binary: str | None,
) -> None:
    """Move every pin of COMPONENT (istio, cert-manager, or a pinned chart's name) to
    VERSION, in ENV or in every environment, meshgen.yaml included.

    \b
    Example, staging first:
      meshgen platform upgrade istio 1.30.4 --env staging --branch platform/istio-staging
      meshgen platform upgrade istio 1.30.4 --branch platform/istio
    """
    from meshgen.day2.platform import plan_upgrade

    run_change(
        lambda: plan_upgrade(Path(), component, version, environment=environment, force=force),
        branch=branch,
        commit=commit,
        author=author,
        helm_binary=helm_binary,
    )

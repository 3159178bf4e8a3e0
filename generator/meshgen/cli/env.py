"""`meshgen env add|remove`: an environment with every file both GitOps engines need."""

from __future__ import annotations

import os
from pathlib import Path

import click

from meshgen.cli.changes import CHANGE_EPILOG, change_options, run_change
from meshgen.cli.grammar import SuggestingGroup


@click.group(cls=SuggestingGroup)
def env() -> None:
    """Add or remove an environment (cluster, platform, GitOps wiring, app files).

    \b
    Example:
      meshgen env add qa --from staging --branch env/qa
    """


@env.command(epilog=CHANGE_EPILOG)
@click.argument("name")
@click.option("--namespace", metavar="NS", help="The apps' namespace [default: NAME].")
@click.option("--cluster", metavar="CLUSTER", help="The EKS cluster's name [default: <repo>-NAME].")
@click.option(
    "--from",
    "source",
    metavar="ENV",
    help="Copy the apps' environment files from ENV [default: the first environment].",
)
@change_options
def add(
    name: str,
    namespace: str | None,
    cluster: str | None,
    source: str | None,
    branch: str | None,
    commit: bool,
    author: str | None,
    helm_binary: str | None,
) -> None:
    """Add environment NAME: cluster config, platform releases, GitOps wiring of both
    engines, and each app's environment file (host rewritten to APP.NAME.DOMAIN).

    \b
    Example:
      meshgen env add qa --from staging --branch env/qa
    """
    from meshgen.cache_folder import template_cache
    from meshgen.day2.environments import plan_add

    compiled = template_cache(os.environ)
    run_change(
        lambda: plan_add(
            Path(),
            name,
            namespace=namespace,
            cluster=cluster,
            source=source,
            template_cache=compiled,
        ),
        branch=branch,
        commit=commit,
        author=author,
        helm_binary=helm_binary,
    )


@env.command(epilog=CHANGE_EPILOG)
@click.argument("name")
@change_options
def remove(
    name: str, branch: str | None, commit: bool, author: str | None, helm_binary: str | None
) -> None:
    """Remove environment NAME and every file that belongs to it only.

    \b
    Example:
      meshgen env remove qa --branch env/remove-qa
    """
    from meshgen.cache_folder import template_cache
    from meshgen.day2.environments import plan_remove

    compiled = template_cache(os.environ)
    run_change(
        lambda: plan_remove(Path(), name, template_cache=compiled),
        branch=branch,
        commit=commit,
        author=author,
        helm_binary=helm_binary,
    )

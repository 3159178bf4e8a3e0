"""`meshgen app add`: another canary service in every environment."""

from __future__ import annotations

from pathlib import Path

import click

from meshgen.cli.changes import CHANGE_EPILOG, change_options, run_change
from meshgen.cli.grammar import SuggestingGroup


@click.group(cls=SuggestingGroup)
def app() -> None:
    """The canary services of the repository.

    \b
    Example:
      meshgen app add checkout --image ghcr.io/acme/checkout --branch app/checkout
    """


@app.command(epilog=CHANGE_EPILOG)
@click.argument("name")
@click.option("--image", metavar="REPO", help="Image repository of every version.")
@click.option("--port", type=int, metavar="N", help="Port the application container listens on.")
@click.option(
    "--versions",
    "versions_spec",
    metavar="V1[=TAG],...",
    help="Versions to deploy (the first takes all traffic) [default: v1 and v2 of the demo].",
)
@change_options
def add(
    name: str,
    image: str | None,
    port: int | None,
    versions_spec: str | None,
    branch: str | None,
    commit: bool,
    author: str | None,
    helm_binary: str | None,
) -> None:
    """Add app NAME: its chart (charts/NAME), an environment file per environment (host
    NAME.ENV.DOMAIN) and its GitOps wiring.

    \b
    Example:
      meshgen app add checkout --image ghcr.io/acme/checkout --port 8080 \\
        --versions v1=1.0.0 --branch app/checkout
    """
    from meshgen.day2.apps import plan_add

    run_change(
        lambda: plan_add(Path(), name, image=image, port=port, versions_spec=versions_spec),
        branch=branch,
        commit=commit,
        author=author,
        helm_binary=helm_binary,
    )

"""`meshgen diff`."""

from __future__ import annotations

import os
from pathlib import Path

import click

from meshgen.cli.options import helm_binary_option


@click.command()
@click.option(
    "--base",
    metavar="REF",
    help="What the change merges into [default: $MESHGEN_BASE_REF, else origin/main, "
    "else main; guardrails.baseBranch in meshgen.yaml replaces main].",
)
@click.option("--head", default="HEAD", show_default=True, metavar="REF", help="The change.")
@click.option(
    "--env",
    "environments",
    multiple=True,
    metavar="ENV",
    help="Only this environment; repeatable.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "markdown"]),
    default="text",
    show_default=True,
    help="markdown is what the pull-request workflow posts.",
)
@click.option(
    "--offline",
    is_flag=True,
    help="Do not fetch the upstream platform charts to render the platform diff.",
)
@helm_binary_option
def diff(
    base: str | None,
    head: str,
    environments: tuple[str, ...],
    output_format: str,
    offline: bool,
    helm_binary: str | None,
) -> None:
    """Show what a change does: traffic, platform and wiring per environment, then the
    rendered manifests' diff.

    Renders every environment at the merge base of --base and --head and at --head
    (as a pull request shows it), from git, without touching the working tree; uncommitted
    changes are not part of it. The platform part lists chart version changes, a diff of
    each platform release's merged values and of the GitOps objects, and, for releases
    that changed, the upstream charts rendered with those values when their chart
    repository answers (charts are kept in meshgen's cache by digest). Exit code 1 when an
    environment does not render at one of the refs (its objects are then not compared).

    \b
    Examples:
      meshgen diff
      meshgen diff --base main --head canary/staging-v2-10 --env staging
      meshgen diff --base origin/main --head HEAD --format markdown > diff.md
    """
    import tempfile

    from meshgen.cache_folder import cache_root
    from meshgen.git.refs import ENV_BASE_REF
    from meshgen.helm import select_backend
    from meshgen.platform.charts import ChartRepositories
    from meshgen.repo import find_root
    from meshgen.report.diff import DIFF_RENDERERS
    from meshgen.traffic.diff import diff_refs

    with tempfile.TemporaryDirectory(prefix="meshgen-charts-") as scratch:
        cache = cache_root(os.environ)
        charts = None if offline else ChartRepositories((cache or Path(scratch)) / "charts")
        result = diff_refs(
            find_root(Path()),
            select_backend(helm_binary),
            base=base,
            head=head,
            environments=environments,
            env_base_ref=os.environ.get(ENV_BASE_REF) or None,
            charts=charts,
        )
    text = DIFF_RENDERERS[output_format](result)
    click.echo(text, nl=False)
    if result.incomplete:
        # A side that does not render is a finding about the pull request, as in validate.
        click.get_current_context().exit(1)

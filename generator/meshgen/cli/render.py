"""`meshgen render`."""

from __future__ import annotations

from pathlib import Path

import click

from meshgen.cli.options import helm_binary_option


@click.command()
@click.option("--env", "environment", required=True, metavar="ENV", help="Environment to render.")
@click.option("--app", metavar="APP", help="App to render [default: the first in meshgen.yaml].")
@click.option(
    "--output",
    "-o",
    default="-",
    metavar="DIR|-",
    help="Write DIR/<env>/<app>.yaml instead of standard output.",
)
@helm_binary_option
def render(environment: str, app: str | None, output: str, helm_binary: str | None) -> None:
    """Render an app's chart with one environment's values, as multi-document YAML.

    The output is what the GitOps engine applies for that environment, in Helm's install
    order and byte-for-byte deterministic, so two renders can be diffed.

    \b
    Examples:
      meshgen render --env staging
      meshgen -C ../acme-mesh render --env production --output rendered/
    """
    from meshgen import yamlio
    from meshgen.helm import select_backend
    from meshgen.render import render_app
    from meshgen.repo import load_repo

    model = load_repo(Path())
    chosen_app = model.app(app)
    rendering = render_app(
        model, model.environment(environment), chosen_app, select_backend(helm_binary)
    )
    text = rendering.to_yaml()
    if output == "-":
        click.echo(text, nl=False)
        return
    target = Path(output) / environment / f"{chosen_app.name}.yaml"
    _refuse_the_repository_own_files(model.root, output, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    yamlio.atomic_write_text(target, text)
    click.echo(f"Wrote {target} ({len(rendering.manifests)} objects)", err=True)


def _refuse_the_repository_own_files(root: Path, output: str, target: Path) -> None:
    """A render written into a folder of the repository itself would replace its files
    (`--output environments` would overwrite the environment file it was rendered from)."""
    from meshgen.repo import CHARTS_DIR, ENVIRONMENTS_DIR, STATIC_DIRS
    from meshgen.validate.schemas.crd_import import SCHEMA_DIR

    resolved = target.resolve()
    for name in (ENVIRONMENTS_DIR, CHARTS_DIR, *STATIC_DIRS, SCHEMA_DIR, ".github", ".git"):
        kept = (root / name).resolve()
        if kept in resolved.parents:
            raise click.UsageError(
                f"--output {output}: {target} would be written into {name}/, which the "
                "repository keeps; write renders to a folder of their own, e.g. "
                "--output rendered/"
            )

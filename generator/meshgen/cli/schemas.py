"""`meshgen schemas import`: CRD YAML into the repository's JSON schema folder."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from meshgen.cli.grammar import SuggestingGroup


@click.group(cls=SuggestingGroup)
def schemas() -> None:
    """Manage the CRD schemas `meshgen validate` checks custom resources against.

    \b
    Example:
      helm show crds istio/base | meshgen schemas import -
    """


@schemas.command("import")
@click.argument("sources", nargs=-1, required=True, metavar="FILE|-...")
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Write here instead of the repository's schemas/ folder.",
)
def import_(sources: tuple[str, ...], output: Path | None) -> None:
    """Turn CRD YAML into JSON schemas (plain and strict), in kubeconform's layout.

    FILE is the output of `helm show crds CHART` or `kubectl get crd NAME -o yaml`, or -
    for stdin. Schemas land in schemas/crds/ and schemas/crds-strict/ as
    {group}/{kind}_{version}.json, one per served version; `meshgen validate` uses the
    strict ones by default. Commit them: validation then works offline.

    \b
    Examples:
      helm show crds istio/base --version 1.30.3 | meshgen schemas import -
      kubectl get crd certificates.cert-manager.io -o yaml | meshgen schemas import -
      meshgen schemas import crds/*.yaml --output /tmp/schemas
    """
    from meshgen import yamlio
    from meshgen.repo import find_root
    from meshgen.validate.schemas import crd_import

    destination = output if output is not None else find_root(Path()) / crd_import.SCHEMA_DIR
    converted = []
    for source in sources:
        if source == "-":
            converted.extend(crd_import.convert_text(sys.stdin.read(), "<stdin>"))
        else:
            path = Path(source)
            converted.extend(crd_import.convert_text(yamlio.read_text(path), str(path)))
    written = crd_import.write(converted, destination)
    for item in written:
        click.echo(f"wrote {item.path} and {item.strict_path}")
    click.echo(f"{len(written)} schemas imported into {destination}")

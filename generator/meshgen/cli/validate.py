"""`meshgen validate` and `meshgen rules`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from meshgen.cli.options import helm_binary_option, kubernetes_version_callback
from meshgen.cli.progress import Progress

if TYPE_CHECKING:
    from meshgen.helm.base import HelmBackend
    from meshgen.kubectl import DryRunOptions
    from meshgen.validate.findings import Report

FORMATS = ("text", "json", "sarif")
# PATH is checked in the command, after --files: with `--files out/*.yaml` the shell's
# second file and any after it land in PATH, and the useful error is about --files.
REPOSITORY_FOLDER = click.Path(exists=True, file_okay=False, path_type=Path)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), metavar="[PATH]")
@click.option(
    "--env",
    "environments",
    multiple=True,
    metavar="ENV",
    help="Validate only this environment; repeatable.",
)
@click.option(
    "--files",
    "files",
    multiple=True,
    metavar="PATH",
    help="Analyze these manifests (files, folders, or - for stdin) instead of a repository; "
    "repeatable.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Report format (sarif: for GitHub code scanning).",
)
@click.option(
    "--select",
    multiple=True,
    metavar="RULE",
    help="Run only these rules (ID, ID prefix such as MG4, or name); repeatable.",
)
@click.option("--ignore", multiple=True, metavar="RULE", help="Skip these rules; repeatable.")
@click.option("--strict", is_flag=True, help="Warnings fail the run too.")
@click.option(
    "--schema-location",
    "schema_locations",
    multiple=True,
    metavar="LOC",
    help="CRD schemas: a folder or a URL template in kubeconform's layout "
    "({{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json); repeatable, tried in "
    "order; `default` is the repository's schemas/crds-strict (the default).",
)
@click.option(
    "--schema-cache",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Where downloaded schemas are kept (default: $MESHGEN_CACHE_DIR/schemas or "
    "~/.cache/meshgen/schemas).",
)
@click.option(
    "--kubernetes-version",
    metavar="X.Y",
    callback=kubernetes_version_callback,
    help="Kubernetes version of the schemas (default: meshgen.yaml's cluster version; "
    "with --files, the newest bundled).",
)
@click.option(
    "--kubectl",
    "use_kubectl",
    is_flag=True,
    help="Also run `kubectl apply --dry-run` for each environment against --context.",
)
@click.option(
    "--dry-run",
    "dry_run_mode",
    type=click.Choice(["server", "client"]),
    default="server",
    show_default=True,
    help="kubectl dry-run mode.",
)
@click.option("--context", "kube_context", metavar="CTX", help="kubeconfig context (--kubectl).")
@click.option(
    "--kubeconfig",
    type=click.Path(dir_okay=False, path_type=Path),
    help="kubeconfig file for --kubectl (default: kubectl's own).",
)
@click.option(
    "--field-manager",
    metavar="NAME",
    help="Server-side apply field manager of --dry-run server (default: one per release, "
    "meshgen.ENV.APP); give your GitOps engine's (argocd-controller, kustomize-controller) "
    "to be told only of fields that someone else owns.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=30,
    show_default=True,
    metavar="SECONDS",
    help="Give up on kubectl after this long per environment.",
)
@click.option(
    "--mesh-config",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="With --files: the MeshConfig (or the `istio` ConfigMap) the objects run under, "
    "as istioctl analyze --meshConfigFile.",
)
@click.option(
    "--no-default-gateway",
    "default_gateway",
    flag_value=False,
    default=True,
    help="With --files: do not assume istioctl's default ingress gateway (istio: "
    "ingressgateway in istio-system) when the input brings none.",
)
@helm_binary_option
def validate(
    paths: tuple[Path, ...],
    environments: tuple[str, ...],
    files: tuple[str, ...],
    output_format: str,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    strict: bool,
    schema_locations: tuple[str, ...],
    schema_cache: Path | None,
    kubernetes_version: str | None,
    use_kubectl: bool,
    dry_run_mode: str,
    kube_context: str | None,
    kubeconfig: Path | None,
    field_manager: str | None,
    timeout: float,
    mesh_config: Path | None,
    default_gateway: bool,
    helm_binary: str | None,
) -> None:
    """Prove a generated repository (or plain manifests) right, offline.

    PATH is a folder inside the repository to validate (default: the current folder,
    or DIR of `meshgen -C DIR validate`).

    \b
    Layers, each with stable rule IDs (see `meshgen rules`):
      MG0xx/MG1xx  meshgen.yaml and environment files: schemas, weights, names
      MG2xx        Helm: lint and render every environment
      MG3xx        Kubernetes schemas (strict) and CRD schemas (--schema-location)
      MG4xx        mesh analyzers, like `istioctl analyze` (codes such as IST0101 named)
      MG5xx        platform and GitOps wiring (ingress gateway, issuers, CNI, sync paths)
      MG6xx        restricted Pod Security Standard, credentials in the repository
      MG7xx        canary guard rails from meshgen.yaml (max step, environment order)
      MG9xx        `kubectl apply --dry-run` against --context, with --kubectl

    With --files, the schema and mesh layers run on manifests meshgen did not write.
    A custom resource kind with no schema is reported as skipped (MG303), never passed.

    Exit code 1 when an error is found (or a warning, with --strict); 2 when validation
    could not run (bad option, unreachable cluster).

    \b
    Examples:
      meshgen validate
      meshgen validate ../acme-mesh
      meshgen -C ../acme-mesh validate --env staging --format sarif > meshgen.sarif
      meshgen validate --files rendered.yaml --select MG4
      helm template app ./chart | meshgen validate --files -
      meshgen validate --kubectl --context staging-admin --dry-run server
    """
    from meshgen.repo import find_root
    from meshgen.traffic.guardrails import ENV_BASE_REF
    from meshgen.validate.engine import validate_files, validate_repo
    from meshgen.validate.options import ValidateOptions
    from meshgen.validate.schemas.crd import default_cache_dir

    # An environment named twice is one environment (not two with the same host).
    environments = tuple(dict.fromkeys(environments))
    if use_kubectl and not kube_context:
        raise click.UsageError("--kubectl needs an explicit --context (meshgen never guesses)")
    if files and environments:
        raise click.UsageError("--env applies to a repository, not to --files")
    if files and paths:
        raise click.UsageError(
            f"PATH ({' '.join(map(str, paths))}) names a repository; with --files give the "
            "manifests only, each after its own --files or as a folder (a shell glob such "
            "as --files out/*.yaml gives --files its first file only: write --files out/)"
        )
    if len(paths) > 1:
        raise click.UsageError(f"one repository PATH at a time, not {len(paths)}")
    path = _repository_folder(paths[0]) if paths else None
    if not files and (mesh_config is not None or not default_gateway):
        raise click.UsageError(
            "--mesh-config and --no-default-gateway apply to --files; a repository's "
            "platform/ values say what it installs"
        )
    dry_run: DryRunOptions | None = None
    if use_kubectl:
        from meshgen.kubectl import DryRunOptions

        dry_run = DryRunOptions(
            context=str(kube_context),
            mode="client" if dry_run_mode == "client" else "server",
            timeout=timeout,
            kubeconfig=str(kubeconfig) if kubeconfig else None,
            field_manager=field_manager,
        )
    progress = Progress(sys.stderr)
    options = ValidateOptions(
        environments=tuple(environments),
        files=tuple(files),
        select=tuple(select),
        ignore=tuple(ignore),
        schema_locations=tuple(schema_locations) or None,
        schema_cache=schema_cache or default_cache_dir(os.environ),
        kubernetes_version=kubernetes_version,
        dry_run=dry_run,
        base_ref=os.environ.get(ENV_BASE_REF) or None,
        verdict_cache=_verdict_cache(),
        parse_cache=_parse_cache(),
        progress=progress if progress.enabled and not files else None,
        mesh_config=mesh_config,
        default_gateway=default_gateway,
    )
    try:
        if files:
            report = validate_files(Path.cwd(), options)
        else:
            report = validate_repo(find_root(path or Path()), _backend(helm_binary), options)
    finally:
        progress.clear()
    click.echo(_render(report, output_format), nl=False)
    if report.failed(strict=strict):
        click.get_current_context().exit(1)


def _repository_folder(path: Path) -> Path:
    """PATH as Click checks a folder argument: it exists and is a folder."""
    context = click.get_current_context()
    parameter = next(p for p in context.command.params if p.name == "paths")
    return Path(REPOSITORY_FOLDER.convert(path, parameter, context))


def _verdict_cache() -> Path | None:
    from meshgen.cache_folder import cache_root

    root = cache_root(os.environ)
    return root / "verdicts.json" if root is not None else None


def _parse_cache() -> Path | None:
    from meshgen.cache_folder import cache_root

    root = cache_root(os.environ)
    return root / "documents" if root is not None else None


def _backend(helm_binary: str | None) -> HelmBackend:
    """The Helm backend, remembering renders and lints across runs (see helm.cached)."""
    from meshgen.cache_folder import cache_root
    from meshgen.helm import select_backend
    from meshgen.helm.cached import cached

    backend = select_backend(helm_binary)
    root = cache_root(os.environ)
    return cached(backend, root / "renders") if root is not None else backend


def _render(report: Report, output_format: str) -> str:
    from meshgen.report import render

    return render(report, output_format)


@click.command()
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
def rules(output_format: str) -> None:
    """List every validation rule: ID, name, severity, istioctl code, and how to fix it.

    \b
    Example:
      meshgen rules
      meshgen rules --format json
    """
    from meshgen.report.rules import RULES_RENDERERS
    from meshgen.validate.registry import RETIRED_RULES, all_rules

    click.echo(RULES_RENDERERS[output_format](all_rules(), RETIRED_RULES), nl=False)

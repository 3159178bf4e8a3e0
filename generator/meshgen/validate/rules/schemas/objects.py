"""Rendered objects against the strict Kubernetes schemas of the cluster's version."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.validate.context import ValidationContext
from meshgen.validate.findings import Location, Problem, Severity, rule
from meshgen.validate.schemas.kube import is_core_api


@rule("MG301", "kube-schema", Severity.ERROR)
def kube_schema(ctx: ValidationContext) -> Iterator[Problem]:
    """A rendered object does not match the Kubernetes schema (strict: unknown fields fail).

    Fix the template or value that produces the field named in the message.
    """
    schemas = ctx.kube_schemas
    if schemas is None:
        return
    for environment, manifest in ctx.all_objects:
        validator = schemas.validator(manifest.api_version, manifest.kind)
        if validator is None:
            continue
        for error in sorted(validator.iter_errors(manifest.data), key=lambda e: list(e.path)):
            field = ".".join(str(part) for part in error.absolute_path) or "(root)"
            yield Problem(
                f"{_label(environment)}{manifest.ref}: {field}: {error.message} "
                f"(Kubernetes {schemas.version} schema)",
                ctx.location(manifest.source, manifest.line),
            )


@rule("MG302", "kube-schema-unknown", Severity.ERROR)
def kube_schema_unknown(ctx: ValidationContext) -> Iterator[Problem]:
    """A core Kubernetes apiVersion/kind has no schema in the cluster's version.

    The API may be removed or misspelt: check `kubectl api-resources` for the kind and
    its current apiVersion.
    """
    schemas = ctx.kube_schemas
    if schemas is None:
        return
    for environment, manifest in ctx.all_objects:
        if not is_core_api(manifest.api_version):
            continue
        if schemas.validator(manifest.api_version, manifest.kind) is None:
            yield Problem(
                f"{_label(environment)}{manifest.ref}: Kubernetes {schemas.version} has no "
                f"{manifest.kind} in {manifest.api_version}",
                ctx.location(manifest.source, manifest.line),
            )


@rule("MG303", "schema-skipped", Severity.INFO)
def schema_skipped(ctx: ValidationContext) -> Iterator[Problem]:
    """A custom resource kind was not schema-checked because no schema for it is known.

    Point `--schema-location` at a folder of CRD schemas, or import them with
    `meshgen schemas import`, so that the kind is checked too.
    """
    schemas = ctx.kube_schemas
    if schemas is None:
        return
    seen: set[tuple[str, str]] = set()
    for _, manifest in ctx.all_objects:
        key = (manifest.api_version, manifest.kind)
        if is_core_api(manifest.api_version) or key in seen:
            continue
        seen.add(key)
        if ctx.crd_schemas.lookup(manifest.api_version, manifest.kind) is not None:
            continue
        yield Problem(
            f"{manifest.kind} ({manifest.api_version}): no schema known, not schema-checked",
            ctx.location(manifest.source, manifest.line),
        )


@rule("MG304", "crd-schema", Severity.ERROR)
def crd_schema(ctx: ValidationContext) -> Iterator[Problem]:
    """A custom resource (Istio, cert-manager, Argo CD, Flux...) does not match its CRD schema.

    Fix the field named in the message; the schema comes from the location shown
    (`meshgen schemas import` refreshes the repository's copy from the CRDs you install).
    """
    for environment, manifest in ctx.all_objects:
        if is_core_api(manifest.api_version):
            continue
        found = ctx.crd_schemas.lookup(manifest.api_version, manifest.kind)
        if found is None:
            continue
        errors = sorted(found.validator.iter_errors(manifest.data), key=lambda e: list(e.path))
        for error in errors:
            field = ".".join(str(part) for part in error.absolute_path) or "(root)"
            yield Problem(
                f"{_label(environment)}{manifest.ref}: {field}: {error.message} "
                f"(schema {ctx.rel(found.origin)})",
                ctx.location(manifest.source, manifest.line),
            )


@rule("MG305", "schema-location-error", Severity.WARNING)
def schema_location_error(ctx: ValidationContext) -> Iterator[Problem]:
    """A schema location could not be read, or holds a file that is not a JSON schema.

    Check the `--schema-location` folder or URL template (kubeconform layout:
    `{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json`) and your network or
    schema cache; kinds it should have covered are reported as skipped (MG303).
    """
    for _, manifest in ctx.all_objects:
        if not is_core_api(manifest.api_version):
            ctx.crd_schemas.lookup(manifest.api_version, manifest.kind)
    for problem in ctx.crd_schemas.problems:
        yield Problem(
            f"schema location {problem.location}: {problem.message}",
            # The location comes from --schema-location (or is the repository's schema
            # folder), not from meshgen.yaml: point at it.
            Location(problem.location)
            if "://" in problem.location
            else ctx.location(problem.location),
        )


def _label(environment: str) -> str:
    return f"[{environment}] " if environment else ""

"""Every path the GitOps engine reads exists in the repository."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from meshgen import yamlio
from meshgen.errors import ConfigError
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_list, as_map, as_text, dig, is_kind
from meshgen.validate.facts.gitops import (
    application_sources,
    argocd_application_specs,
    argocd_values_path,
    kustomization_files,
    line_of_text,
    repo_path,
    repo_url,
)
from meshgen.validate.findings import Problem, Severity, rule
from meshgen.yaml_lines import load_with_lines


@rule("MG504", "gitops-path-missing", Severity.ERROR)
def gitops_path_missing(ctx: ValidationContext) -> Iterator[Problem]:
    """A path the GitOps engine reads from this repository does not exist.

    The sync would fail on the cluster. Fix the path in the object or kustomization.yaml
    named (paths are relative to the repository root, or to the kustomization's folder),
    or restore the file or folder it names.
    """
    yield from _argocd_missing_paths(ctx)
    yield from _flux_missing_paths(ctx)
    yield from _kustomization_missing_paths(ctx)


def _missing(ctx: ValidationContext, relative: str, *, folder: bool) -> bool:
    path = ctx.root / relative
    return not (path.is_dir() if folder else path.is_file())


def _argocd_missing_paths(ctx: ValidationContext) -> Iterator[Problem]:
    own_url = repo_url(ctx)
    seen: set[tuple[str, str]] = set()
    for manifest, spec in argocd_application_specs(ctx):
        sources = application_sources(spec)
        values_from_here = any(
            as_text(s.get("ref")) == "values" and as_text(s.get("repoURL")) == own_url
            for s in sources
        )
        for source in sources:
            from_here = as_text(source.get("repoURL")) == own_url
            base = repo_path(as_text(source.get("path"))) if source.get("path") else ""
            checks: list[tuple[str, str, bool]] = []
            if from_here and base:
                checks.append((as_text(source.get("path")), base, True))
            for value_file in as_list(dig(source, "helm", "valueFiles")):
                text = as_text(value_file)
                readable = values_from_here if text.startswith("$") else bool(from_here and base)
                if readable:
                    checks.append((text, argocd_values_path(base, text), False))
            for written, relative, folder in checks:
                key = (manifest.source, relative)
                if key in seen or not _missing(ctx, relative, folder=folder):
                    continue
                seen.add(key)
                what = "folder" if folder else "file"
                yield Problem(
                    f"{manifest.kind} {manifest.name}: {what} {relative} does not exist",
                    ctx.location(manifest.source, line_of_text(ctx, manifest, written.strip())),
                )


def _flux_missing_paths(ctx: ValidationContext) -> Iterator[Problem]:
    for manifest in ctx.static_objects:
        spec = as_map(manifest.data.get("spec"))
        checks: list[tuple[str, bool]] = []
        if is_kind(manifest, "kustomize.toolkit.fluxcd.io", "Kustomization"):
            if as_text(dig(spec, "sourceRef", "kind")) == "GitRepository" and spec.get("path"):
                checks.append((as_text(spec.get("path")), True))
        elif is_kind(manifest, "helm.toolkit.fluxcd.io", "HelmRelease"):
            chart_spec = as_map(dig(spec, "chart", "spec"))
            if as_text(dig(chart_spec, "sourceRef", "kind")) == "GitRepository":
                checks.append((as_text(chart_spec.get("chart")), True))
                checks.extend((as_text(v), False) for v in as_list(chart_spec.get("valuesFiles")))
        for written, folder in checks:
            relative = repo_path(written)
            if written and _missing(ctx, relative, folder=folder):
                what = "folder" if folder else "file"
                yield Problem(
                    f"{manifest.kind} {manifest.name}: {what} {relative} does not exist",
                    ctx.location(manifest.source, line_of_text(ctx, manifest, written)),
                )


def _kustomization_missing_paths(ctx: ValidationContext) -> Iterator[Problem]:
    for path in kustomization_files(ctx):
        try:
            data = as_map(load_with_lines(path))
        except ConfigError:
            continue
        folder = path.parent
        references: list[tuple[Any, Any, str]] = []
        resources = as_list(data.get("resources"))
        references.extend((resources, index, as_text(item)) for index, item in enumerate(resources))
        for generator in as_list(data.get("configMapGenerator")) + as_list(
            data.get("secretGenerator")
        ):
            files = as_list(as_map(generator).get("files"))
            for index, item in enumerate(files):
                # `key=path` names the key; the file is after the `=`.
                references.append((files, index, as_text(item).rpartition("=")[2]))
        for node, index, reference in references:
            if not reference or "://" in reference:
                continue
            target = (folder / reference).resolve()
            if not target.exists():
                yield Problem(
                    f"kustomization refers to {reference}, which does not exist",
                    ctx.location(path, yamlio.line_of(node, index)),
                )

"""Every Flux reference names an object the repository defines."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from meshgen.platform import kustomize
from meshgen.platform.objects import Objects, at, items, line_of_text, mapping, of_kind, text
from meshgen.platform.values import did_you_mean
from meshgen.render import Manifest
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.platform import repo_objects
from meshgen.validate.findings import Problem, Severity, rule


@dataclass(frozen=True)
class Reference:
    field: str
    kind: str
    name: str
    namespace: str


def _references(manifest: Manifest) -> Iterator[Reference]:
    spec = mapping(manifest.data.get("spec"))
    own = manifest.namespace

    def ref(field: str, data: Any, default_kind: str) -> Reference | None:
        data = mapping(data)
        name = text(data.get("name"))
        if not name:
            return None
        kind = text(data.get("kind")) or default_kind
        return Reference(field, kind, name, text(data.get("namespace")) or own)

    if of_kind(manifest, "helm.toolkit.fluxcd.io", "HelmRelease"):
        candidates = [
            ref("spec.chart.spec.sourceRef", at(spec, "chart", "spec", "sourceRef"), ""),
            ref("spec.chartRef", spec.get("chartRef"), ""),
            *(
                ref("spec.dependsOn", entry, "HelmRelease")
                for entry in items(spec.get("dependsOn"))
            ),
        ]
        for raw in items(spec.get("valuesFrom")):
            entry = mapping(raw)
            # Secrets usually come from outside git (SOPS, external secrets), and an
            # optional reference may be absent by design.
            if text(entry.get("kind")) == "ConfigMap" and entry.get("optional") is not True:
                candidates.append(
                    Reference("spec.valuesFrom", "ConfigMap", text(entry.get("name")), own)
                )
    elif of_kind(manifest, "kustomize.toolkit.fluxcd.io", "Kustomization"):
        candidates = [
            ref("spec.sourceRef", spec.get("sourceRef"), ""),
            *(
                ref("spec.dependsOn", entry, "Kustomization")
                for entry in items(spec.get("dependsOn"))
            ),
        ]
    else:
        return
    yield from (candidate for candidate in candidates if candidate is not None and candidate.name)


def _generated(ctx: ValidationContext, objects: Objects) -> list[kustomize.Generated]:
    folders = {
        source.rpartition("/")[0]
        for source in (ctx.rel(f.path) for f in ctx.static_files)
        if source.rpartition("/")[2] in kustomize.KUSTOMIZATION_FILES
    }
    found: list[kustomize.Generated] = []
    for folder in sorted(folders):
        found.extend(kustomize.build(objects.root, folder).generated.values())
    return found


@rule("MG510", "flux-reference-missing", Severity.ERROR)
def flux_reference_missing(ctx: ValidationContext) -> Iterator[Problem]:
    """A Flux HelmRelease or Kustomization names a source, dependency or values it lacks.

    It names an object (source, dependency, values ConfigMap) the repository does not define.

    Flux would wait for it forever (dependsOn) or fail to reconcile (sourceRef, chartRef,
    valuesFrom). Fix the name (and namespace, which defaults to the referrer's), or add
    the object: a HelmRepository or GitRepository, the HelmRelease or Kustomization
    depended on, or the ConfigMap (a kustomization's `configMapGenerator` counts).
    """
    objects = repo_objects(ctx)
    flux = [
        m
        for m in objects.all
        if of_kind(m, "helm.toolkit.fluxcd.io", "HelmRelease")
        or of_kind(m, "kustomize.toolkit.fluxcd.io", "Kustomization")
    ]
    if not flux:
        return
    generated: Mapping[tuple[str, str], list[str]] | None = None
    for manifest in flux:
        for reference in _references(manifest):
            if objects.named(reference.kind, reference.name, reference.namespace):
                continue
            if generated is None:
                generated = {}
                for item in _generated(ctx, objects):
                    generated.setdefault((item.kind, item.name), []).append(item.namespace)
            namespaces = generated.get((reference.kind, reference.name), [])
            if any(not ns or ns == reference.namespace for ns in namespaces):
                continue
            known = sorted(
                {m.name for m in objects.all if m.kind == reference.kind}
                | {name for kind, name in generated if kind == reference.kind}
            )
            hint = did_you_mean(reference.name, known) or (
                f" ({reference.kind}: {', '.join(known)})" if known else ""
            )
            where = f"{manifest.namespace}/{manifest.name}" if manifest.namespace else manifest.name
            yield Problem(
                f"{manifest.kind} {where}: {reference.field} names {reference.kind or 'an object'} "
                f"{reference.name!r}, which the repository does not define{hint}",
                ctx.location(
                    manifest.source, line_of_text(ctx.root, manifest, f"name: {reference.name}")
                ),
            )

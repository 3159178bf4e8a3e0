"""Istio annotations on Kubernetes objects (istioctl's annotations.K8sAnalyzer)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from meshgen.render import Manifest
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_map, dig
from meshgen.validate.facts.istio_annotations import ANNOTATIONS, Annotation, is_istio_annotation
from meshgen.validate.facts.world import World, problem_at, worlds
from meshgen.validate.findings import Problem, Severity, rule

# The kinds istioctl checks, and where their pods' annotations are.
_CHECKED = {"Namespace": None, "Service": None, "Pod": None, "Deployment": ("spec", "template")}


def _annotated(world: World) -> Iterator[tuple[Manifest, str, str, str, Annotation | None]]:
    """(object, kind the annotation sits on, key, value, what Istio knows of the key)."""
    if "istio annotations" not in world.cache:  # four rules read them
        world.cache["istio annotations"] = [
            (manifest, *found)
            for kind in _CHECKED
            for manifest in world.kind(kind)
            for found in world.per_object("istio annotations", manifest, _istio_annotations)
        ]
    yield from world.cache["istio annotations"]


def _istio_annotations(manifest: Manifest) -> list[tuple[str, str, str, Annotation | None]]:
    """(kind the annotation sits on, key, value, what Istio knows of the key)."""
    template = _CHECKED.get(manifest.kind)
    places: list[tuple[str, Any]] = [(manifest.kind, dig(manifest.data, "metadata", "annotations"))]
    if template is not None:
        places.append(("Pod", dig(manifest.data, *template, "metadata", "annotations")))
    return [
        (on, str(key), str(value), ANNOTATIONS.get(str(key)))
        for on, found in places
        for key, value in as_map(found).items()
        if is_istio_annotation(str(key))
    ]


def _placed(annotation: Annotation, on: str) -> bool:
    return "*" in annotation.kinds or on in annotation.kinds


@rule(
    "MG443",
    "annotation-misplaced",
    Severity.WARNING,
    istio_code="IST0107",
    istio_analyzer="annotations.K8sAnalyzer",
)
def annotation_misplaced(ctx: ValidationContext) -> Iterator[Problem]:
    """An Istio annotation sits on a kind of object it has no effect on.

    Move it where Istio reads it: pod annotations go on the pod template
    (`spec.template.metadata.annotations` of a Deployment), not on the Deployment.
    """
    for world in worlds(ctx):
        for manifest, on, key, _, annotation in _annotated(world):
            if annotation is not None and not _placed(annotation, on):
                where = "the pod template" if "Pod" in annotation.kinds else annotation.kinds[0]
                yield problem_at(
                    ctx, world, manifest, f"annotation {key} belongs on {where}, not on {on}"
                )


@rule(
    "MG444",
    "annotation-unknown",
    Severity.WARNING,
    istio_code="IST0108",
    istio_analyzer="annotations.K8sAnalyzer",
)
def annotation_unknown(ctx: ValidationContext) -> Iterator[Problem]:
    """An annotation in an Istio domain that Istio does not know.

    Check its spelling against Istio's annotation reference, or remove it.
    """
    for world in worlds(ctx):
        for manifest, _, key, _, annotation in _annotated(world):
            if annotation is None:
                yield problem_at(ctx, world, manifest, f"annotation {key} is not one Istio knows")


@rule(
    "MG445",
    "annotation-invalid",
    Severity.WARNING,
    istio_code="IST0125",
    istio_analyzer="annotations.K8sAnalyzer",
)
def annotation_invalid(ctx: ValidationContext) -> Iterator[Problem]:
    """An Istio annotation has a value Istio rejects.

    Give it a value of the form its reference asks for.
    """
    for world in worlds(ctx):
        for manifest, on, key, value, annotation in _annotated(world):
            if annotation is None or annotation.check is None or not _placed(annotation, on):
                continue
            problem = annotation.check(value)
            if problem is not None:
                yield problem_at(ctx, world, manifest, f"annotation {key}={value!r}: {problem}")


@rule(
    "MG446",
    "annotation-deprecated",
    Severity.INFO,
    istio_code="IST0135",
    istio_analyzer="annotations.K8sAnalyzer",
)
def annotation_deprecated(ctx: ValidationContext) -> Iterator[Problem]:
    """A deprecated Istio annotation, which future Istio versions may ignore.

    Remove it, or use its replacement (ProxyConfig through `proxy.istio.io/config`, or
    the Telemetry API for stats).
    """
    for world in worlds(ctx):
        for manifest, _, key, _, annotation in _annotated(world):
            if annotation is not None and annotation.deprecated:
                yield problem_at(ctx, world, manifest, f"annotation {key} is deprecated")

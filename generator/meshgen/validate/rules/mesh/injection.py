"""Sidecar injection of namespaces and pods (istioctl's injection.Analyzer and
injection.ImageAutoAnalyzer)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_map, labels_of
from meshgen.validate.facts.injection import (
    PROXY_CONTAINER,
    SYSTEM_NAMESPACES,
    Mode,
    enabled_by_default,
    has_proxy,
    inject_flag,
    namespace_mode,
    targeted_for_injection,
)
from meshgen.validate.facts.world import INJECTION_LABEL, REVISION_LABEL, problem_at, worlds
from meshgen.validate.findings import Problem, Severity, rule


@rule(
    "MG409",
    "namespace-not-injected",
    Severity.INFO,
    istio_code="IST0102",
    istio_analyzer="injection.Analyzer",
)
def namespace_not_injected(ctx: ValidationContext) -> Iterator[Problem]:
    """A namespace is labelled neither for sidecar injection nor out of it.

    Label it `istio-injection: enabled` (or `istio.io/rev: <revision>`, or
    `istio.io/dataplane-mode: ambient`); to keep a namespace out of the mesh on purpose,
    label it `istio-injection: disabled`. A namespace Argo CD creates
    (`CreateNamespace=true`) takes its labels from the Application's
    `syncPolicy.managedNamespaceMetadata.labels`.
    """
    for world in worlds(ctx):
        if enabled_by_default(world):
            continue  # MG420
        for name, namespace in world.sorted_namespaces():
            if name in SYSTEM_NAMESPACES:
                continue
            if namespace_mode(world.labels(namespace)) is Mode.UNLABELLED:
                yield problem_at(
                    ctx,
                    world,
                    namespace,
                    f"has neither {INJECTION_LABEL} nor {REVISION_LABEL}: its pods get no sidecar",
                )


@rule(
    "MG420",
    "namespace-injected-by-default",
    Severity.INFO,
    istio_code="IST0148",
    istio_analyzer="injection.Analyzer",
)
def namespace_injected_by_default(ctx: ValidationContext) -> Iterator[Problem]:
    """An unlabelled namespace is injected because the injector enables namespaces by default.

    Say so explicitly with `istio-injection: enabled`, or `istio-injection: disabled` to
    keep the namespace out of the mesh.
    """
    for world in worlds(ctx):
        if not enabled_by_default(world):
            continue
        for name, namespace in world.sorted_namespaces():
            if name not in SYSTEM_NAMESPACES and (
                namespace_mode(world.labels(namespace)) is Mode.UNLABELLED
            ):
                yield problem_at(
                    ctx,
                    world,
                    namespace,
                    "is injected only because sidecarInjectorWebhook.enableNamespacesByDefault "
                    "is true",
                )


@rule(
    "MG410",
    "namespace-both-injection-labels",
    Severity.WARNING,
    istio_code="IST0123",
    istio_analyzer="injection.Analyzer",
)
def namespace_both_injection_labels(ctx: ValidationContext) -> Iterator[Problem]:
    """A namespace asks for injection with both `istio-injection` and `istio.io/rev`.

    Keep one: `istio-injection: enabled` for the default revision, or `istio.io/rev` for
    a revisioned control plane; with both, which one wins depends on the webhook order.
    """
    for world in worlds(ctx):
        for name, namespace in world.sorted_namespaces():
            labels = world.labels(namespace)
            injection = labels.get(INJECTION_LABEL)
            if name in SYSTEM_NAMESPACES or injection in (None, "disabled"):
                continue
            if labels.get(REVISION_LABEL):
                yield problem_at(
                    ctx,
                    world,
                    namespace,
                    f"has both {INJECTION_LABEL}={injection} and "
                    f"{REVISION_LABEL}={labels[REVISION_LABEL]}",
                )


@rule(
    "MG417",
    "pod-missing-proxy",
    Severity.WARNING,
    istio_code="IST0103",
    istio_analyzer="injection.Analyzer",
)
def pod_missing_proxy(ctx: ValidationContext) -> Iterator[Problem]:
    """A pod in a sidecar-injected namespace runs without the istio-proxy container.

    Restart or redeploy it so that the injector adds the sidecar, or mark it
    `sidecar.istio.io/inject: "false"` if it must stay out of the mesh.
    """
    for world in worlds(ctx):
        if world.environment:
            # Rendered charts show pods before the injector adds the sidecar.
            continue
        modes = {
            name: namespace_mode(labels_of(ns.data)) for name, ns in world.namespaces().items()
        }
        for workload in world.workloads():
            if workload.manifest.kind != "Pod" or modes.get(workload.namespace) is not Mode.SIDECAR:
                continue
            if inject_flag(workload.template_metadata) == "false" or workload.pod.get(
                "hostNetwork"
            ):
                continue
            if not has_proxy(workload.containers):
                yield problem_at(
                    ctx, world, workload.manifest, f"runs without the {PROXY_CONTAINER} sidecar"
                )


def _auto_image(containers: Sequence[Mapping[str, Any]]) -> bool:
    return any(
        as_map(c).get("name") == PROXY_CONTAINER and as_map(c).get("image") == "auto"
        for c in containers
    )


@rule(
    "MG418",
    "image-auto-not-injected",
    Severity.WARNING,
    istio_code="IST0146",
    istio_analyzer="injection.ImageAutoAnalyzer",
)
def image_auto_not_injected(ctx: ValidationContext) -> Iterator[Problem]:
    """A Deployment's `image: auto` proxy is not targeted by any injection webhook.

    The injector replaces `image: auto`; label the namespace for injection (or the pod
    template `sidecar.istio.io/inject: "true"`), or give the container a real image.
    """
    for world in worlds(ctx):
        for workload in world.workloads():
            if workload.manifest.kind != "Deployment" or not _auto_image(workload.containers):
                continue
            if not targeted_for_injection(world, workload.manifest, workload.pod_labels):
                yield problem_at(
                    ctx,
                    world,
                    workload.manifest,
                    "has an istio-proxy with `image: auto`, but no injection webhook selects it",
                )


@rule(
    "MG419",
    "pod-image-auto",
    Severity.ERROR,
    istio_code="IST0147",
    istio_analyzer="injection.ImageAutoAnalyzer",
)
def pod_image_auto(ctx: ValidationContext) -> Iterator[Problem]:
    """A Pod object has an istio-proxy container with `image: auto`.

    The injector only replaces `image: auto` when it creates the pod from a template;
    run the pod from a Deployment, or give the container a real image.
    """
    for world in worlds(ctx):
        for workload in world.workloads():
            if workload.manifest.kind == "Pod" and _auto_image(workload.containers):
                yield problem_at(
                    ctx, world, workload.manifest, "has an istio-proxy with `image: auto`"
                )

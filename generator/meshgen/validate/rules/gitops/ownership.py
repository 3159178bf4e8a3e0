"""Ownership: every rendered object belongs to one app."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from meshgen.render import Rendering
from meshgen.validate.context import ValidationContext
from meshgen.validate.findings import Problem, Severity, rule


@rule("MG514", "object-rendered-twice", Severity.ERROR)
def object_rendered_twice(ctx: ValidationContext) -> Iterator[Problem]:
    """Two apps render the same object in one environment.

    Each release would overwrite the other's object, and the GitOps engine would report
    both out of sync. Leave namespaces (and their PeerAuthentication) to the GitOps layer
    with `namespace.create: false`, and give each app its own names.
    """
    if ctx.repo is None:
        return
    namespaces = {e.name: e.namespace for e in ctx.repo.environments}
    for source, line, message in shared_objects(ctx.renderings, namespaces):
        yield Problem(message, ctx.location(source, line))


_CLUSTER_SCOPED = frozenset({"Namespace", "ClusterRole", "ClusterRoleBinding", "ClusterIssuer"})


def shared_objects(
    renderings: Iterable[Rendering], namespaces: Mapping[str, str]
) -> Iterator[tuple[str, int, str]]:
    """Objects two apps render in one environment: their releases would fight over them."""
    owners: dict[tuple[str, str, str, str, str], tuple[str, str, int]] = {}
    for rendering in renderings:
        for manifest in rendering.manifests:
            namespace = (
                ""
                if manifest.kind in _CLUSTER_SCOPED
                else manifest.namespace or namespaces.get(rendering.environment, "")
            )
            key = (
                rendering.environment,
                manifest.api_version.split("/")[0] if "/" in manifest.api_version else "",
                manifest.kind,
                namespace,
                manifest.name,
            )
            first = owners.setdefault(key, (rendering.app, manifest.source, manifest.line))
            if first[0] != rendering.app:
                shown = "/".join(p for p in (manifest.kind, namespace, manifest.name) if p)
                yield (
                    manifest.source,
                    manifest.line,
                    f"{shown} in {rendering.environment} is rendered by {first[0]} "
                    f"({first[1]}) and by {rendering.app}: each object must belong to one "
                    "app; leave namespaces to the GitOps layer (namespace.create: false) "
                    "and give each app its own names",
                )

"""Nothing deploys to an environment meshgen.yaml does not declare."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.platform.releases import (
    FLUX_CLUSTERS,
    IN_CLUSTER,
    argocd_applications,
    destination_cluster,
    flux_environments,
)
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.platform import declared_clusters, repo_objects
from meshgen.validate.findings import Problem, Severity, rule


@rule("MG508", "undeclared-environment", Severity.ERROR)
def undeclared_environment(ctx: ValidationContext) -> Iterator[Problem]:
    """The GitOps engine deploys to a cluster or environment meshgen.yaml does not declare.

    meshgen validates, renders and guards only the environments meshgen.yaml lists, so
    whatever reaches another cluster goes unchecked. Declare the environment under
    `environments:` (with its `cluster:`), or remove what deploys there: an Argo CD
    Application (or ApplicationSet element) whose destination is that cluster, or a Flux
    folder gitops/flux/clusters/<env>/. Argo CD's own cluster (`in-cluster`,
    https://kubernetes.default.svc) is always allowed.
    """
    repo = ctx.repo
    if repo is None:
        return
    declared = declared_clusters(ctx)
    objects = repo_objects(ctx)
    if repo.gitops == "argocd":
        clusters = set(declared.values())
        for application in argocd_applications(objects):
            cluster = destination_cluster(application.spec)
            if not cluster or cluster in clusters or cluster in IN_CLUSTER:
                continue
            manifest = application.manifest
            yield Problem(
                f"{manifest.kind} {application.name} deploys to cluster {cluster!r}, which no "
                "environment in meshgen.yaml runs on",
                ctx.location(manifest.source, manifest.line),
            )
    elif repo.gitops == "flux":
        for name in flux_environments(objects):
            if name in declared:
                continue
            folder = f"{FLUX_CLUSTERS}/{name}"
            first = sorted(s for s in objects.by_file if s.startswith(f"{folder}/"))
            yield Problem(
                f"{folder}/ is a Flux entry folder for environment {name!r}, which meshgen.yaml "
                "does not declare",
                ctx.location(first[0] if first else folder, 1),
            )

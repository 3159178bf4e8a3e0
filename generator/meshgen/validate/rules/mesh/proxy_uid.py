"""Application containers that run as the sidecar's user (istioctl's
deployment.ApplicationUIDAnalyzer)."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_map
from meshgen.validate.facts.injection import PROXY_CONTAINER
from meshgen.validate.facts.world import problem_at, worlds
from meshgen.validate.findings import Problem, Severity, rule

PROXY_UID = 1337


@rule(
    "MG442",
    "application-runs-as-proxy-uid",
    Severity.WARNING,
    istio_code="IST0144",
    istio_analyzer="applicationUID.Analyzer",
)
def application_runs_as_proxy_uid(ctx: ValidationContext) -> Iterator[Problem]:
    """A pod or application container runs as user 1337, the sidecar's user.

    Choose another `runAsUser`; traffic from UID 1337 bypasses the sidecar's redirection.
    """
    for world in worlds(ctx):
        for workload in world.workloads():
            if workload.manifest.kind not in ("Pod", "Deployment"):
                continue
            pod_uid = as_map(workload.pod.get("securityContext")).get("runAsUser")
            container_uids = [
                as_map(c.get("securityContext")).get("runAsUser")
                for c in workload.containers
                if c.get("name") != PROXY_CONTAINER
            ]
            if PROXY_UID in (pod_uid, *container_uids):
                yield problem_at(ctx, world, workload.manifest, f"runs as user {PROXY_UID}")

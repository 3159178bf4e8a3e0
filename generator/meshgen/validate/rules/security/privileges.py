"""PSS privilege controls: host namespaces and ports, privileged, capabilities, root."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.workloads import container_name, container_security, workloads
from meshgen.validate.findings import Problem, Severity, rule


@rule("MG601", "pss-host-namespaces", Severity.ERROR)
def host_namespaces(ctx: ValidationContext) -> Iterator[Problem]:
    """A pod shares the node's network, PID or IPC namespace (baseline PSS).

    Remove hostNetwork, hostPID and hostIPC from the pod spec (or set them to false).
    """
    for workload in workloads(ctx):
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            if workload.pod.get(key) is True:
                yield workload.problem(ctx, f"{key}: true is not allowed; remove it")


@rule("MG602", "pss-privileged", Severity.ERROR)
def privileged(ctx: ValidationContext) -> Iterator[Problem]:
    """A container runs privileged (baseline PSS).

    Remove `securityContext.privileged: true`; grant a specific capability if one is needed.
    """
    for workload in workloads(ctx):
        for container in workload.containers:
            if container_security(container).get("privileged") is True:
                yield workload.problem(
                    ctx, f"container {container_name(container)}: privileged: true is not allowed"
                )


@rule("MG603", "pss-capabilities", Severity.ERROR)
def capabilities(ctx: ValidationContext) -> Iterator[Problem]:
    """A container does not drop ALL capabilities, or adds one other than NET_BIND_SERVICE.

    Set `securityContext.capabilities: {drop: [ALL]}` on every container, adding back at
    most NET_BIND_SERVICE.
    """
    for workload in workloads(ctx):
        for container in workload.containers:
            caps = container_security(container).get("capabilities")
            caps = caps if isinstance(caps, Mapping) else {}
            dropped = caps.get("drop") or []
            if "ALL" not in dropped:
                yield workload.problem(
                    ctx,
                    f"container {container_name(container)}: capabilities.drop must include ALL",
                )
            for added in caps.get("add") or []:
                if added != "NET_BIND_SERVICE":
                    yield workload.problem(
                        ctx,
                        f"container {container_name(container)}: "
                        f"capability {added} may not be added",
                    )


@rule("MG605", "pss-host-ports", Severity.ERROR)
def host_ports(ctx: ValidationContext) -> Iterator[Problem]:
    """A container binds a port on the node (hostPort; baseline PSS).

    Remove hostPort; expose the port through a Service instead.
    """
    for workload in workloads(ctx):
        for container in workload.containers:
            for port in container.get("ports") or []:
                if isinstance(port, Mapping) and port.get("hostPort"):
                    yield workload.problem(
                        ctx,
                        f"container {container_name(container)}: "
                        f"hostPort {port['hostPort']} is not allowed",
                    )


@rule("MG606", "pss-privilege-escalation", Severity.ERROR)
def privilege_escalation(ctx: ValidationContext) -> Iterator[Problem]:
    """A container does not set allowPrivilegeEscalation: false (restricted PSS).

    Add `securityContext.allowPrivilegeEscalation: false` to every container.
    """
    for workload in workloads(ctx):
        for container in workload.containers:
            if container_security(container).get("allowPrivilegeEscalation") is not False:
                yield workload.problem(
                    ctx,
                    f"container {container_name(container)}: "
                    "set securityContext.allowPrivilegeEscalation: false",
                )


@rule("MG607", "pss-run-as-non-root", Severity.ERROR)
def run_as_non_root(ctx: ValidationContext) -> Iterator[Problem]:
    """A container may run as root: runAsNonRoot is not true, or runAsUser is 0 (restricted PSS).

    Set `runAsNonRoot: true` in the pod's securityContext (and a non-zero runAsUser where
    the image's user is root).
    """
    for workload in workloads(ctx):
        pod_level = workload.pod_security
        if pod_level.get("runAsUser") == 0:
            yield workload.problem(ctx, "pod securityContext.runAsUser: 0 is not allowed")
        for container in workload.containers:
            security = container_security(container)
            non_root = security.get("runAsNonRoot", pod_level.get("runAsNonRoot"))
            if non_root is not True:
                yield workload.problem(
                    ctx, f"container {container_name(container)}: set runAsNonRoot: true"
                )
            if security.get("runAsUser") == 0:
                yield workload.problem(
                    ctx, f"container {container_name(container)}: runAsUser: 0 is not allowed"
                )

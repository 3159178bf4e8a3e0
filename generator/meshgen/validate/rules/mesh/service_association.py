"""Services selecting the same meshed Deployment (istioctl's deployment.MultiServiceAnalyzer)."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.render import Manifest
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.hosts import service_ports
from meshgen.validate.facts.injection import workload_in_mesh
from meshgen.validate.facts.workloads import Workload
from meshgen.validate.facts.world import World, problem_at, worlds
from meshgen.validate.findings import Problem, Severity, rule


def _meshed_deployments(world: World) -> Iterator[tuple[Workload, list[Manifest]]]:
    for workload in world.workloads():
        if workload.manifest.kind != "Deployment":
            continue
        if not workload_in_mesh(
            world, workload.namespace, workload.template_metadata, workload.containers
        ):
            continue
        yield workload, world.services_selecting(workload)


@rule(
    "MG424",
    "deployment-port-protocols",
    Severity.WARNING,
    istio_code="IST0116",
    istio_analyzer="deployment.MultiServiceAnalyzer",
)
def deployment_port_protocols(ctx: ValidationContext) -> Iterator[Problem]:
    """Services selecting one meshed Deployment use the same port with different protocols.

    Give each protocol its own port number; the sidecar cannot serve one port as two
    protocols.
    """
    for world in worlds(ctx):
        for workload, services in _meshed_deployments(world):
            protocols: dict[int, dict[str, list[str]]] = {}
            for service in services:
                for port in service_ports(service):
                    by = protocols.setdefault(port.number, {})
                    by.setdefault(port.protocol.upper(), []).append(service.name)
            for number, by_protocol in sorted(protocols.items()):
                if len(by_protocol) > 1:
                    names = sorted(n for group in by_protocol.values() for n in group)
                    yield problem_at(
                        ctx,
                        world,
                        workload.manifest,
                        f"Services {', '.join(names)} use port {number} with different "
                        f"protocols ({', '.join(sorted(by_protocol))})",
                    )


@rule(
    "MG425",
    "deployment-target-port-conflict",
    Severity.WARNING,
    istio_code="IST0137",
    istio_analyzer="deployment.MultiServiceAnalyzer",
)
def deployment_target_port_conflict(ctx: ValidationContext) -> Iterator[Problem]:
    """Services selecting one meshed Deployment send different ports to the same target port.

    Services that reach the same container port must use the same port number too.
    """
    for world in worlds(ctx):
        for workload, services in _meshed_deployments(world):
            targets: dict[str, dict[int, str]] = {}
            for service in services:
                for port in service_ports(service):
                    target = str(port.target if port.target not in (None, 0, "") else port.number)
                    targets.setdefault(target, {})[port.number] = service.name
            for target, ports in sorted(targets.items()):
                if len(ports) > 1:
                    yield problem_at(
                        ctx,
                        world,
                        workload.manifest,
                        f"Services {', '.join(sorted(set(ports.values())))} send ports "
                        f"{', '.join(map(str, sorted(ports)))} to the same target port {target}",
                    )

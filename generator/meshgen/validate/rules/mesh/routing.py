"""Where VirtualServices send traffic: hosts, ports, subsets and weights (istioctl's
virtualservice.DestinationHostAnalyzer and DestinationRuleAnalyzer)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from meshgen.environment_file import is_whole_number
from meshgen.traffic.weights import has_weight_problems
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_list, spec
from meshgen.validate.facts.hosts import destinations, registry, to_fqdn
from meshgen.validate.facts.world import problem_at, worlds
from meshgen.validate.findings import Problem, Severity, rule


@rule(
    "MG401",
    "subset-not-found",
    Severity.ERROR,
    istio_code="IST0101",
    istio_analyzer="virtualservice.DestinationRuleAnalyzer",
)
def subset_not_found(ctx: ValidationContext) -> Iterator[Problem]:
    """A VirtualService routes (or mirrors) to a subset no DestinationRule for that host defines.

    Add the subset to the host's DestinationRule (one subset per version), or route to a
    subset that exists; requests to a missing subset fail with 503.
    """
    for world in worlds(ctx):
        subsets: dict[str, set[str]] = {}
        for rule_object in world.istio("DestinationRule"):
            host = to_fqdn(str(spec(rule_object).get("host", "")), world.namespace_of(rule_object))
            names = subsets.setdefault(host, set())
            for subset in as_list(spec(rule_object).get("subsets")):
                if isinstance(subset, Mapping) and subset.get("name"):
                    names.add(str(subset["name"]))
        for service in world.istio("VirtualService"):
            namespace = world.namespace_of(service)
            for destination in destinations(service):
                if destination.subset is None:
                    continue
                fqdn = to_fqdn(destination.host, namespace)
                what = "mirrors" if destination.mirror else "routes"
                if fqdn not in subsets:
                    yield problem_at(
                        ctx,
                        world,
                        service,
                        f"{what} to subset {destination.subset!r} of {destination.host} "
                        f"({destination.where}), but no DestinationRule has host "
                        f"{destination.host}",
                    )
                elif destination.subset not in subsets[fqdn]:
                    known = ", ".join(sorted(subsets[fqdn])) or "none"
                    yield problem_at(
                        ctx,
                        world,
                        service,
                        f"{what} to subset {destination.subset!r} of {destination.host} "
                        f"({destination.where}), which its DestinationRule does not define "
                        f"(subsets: {known})",
                    )


@rule(
    "MG403",
    "host-not-found",
    Severity.ERROR,
    istio_code="IST0101",
    istio_analyzer="virtualservice.DestinationHostAnalyzer",
)
def host_not_found(ctx: ValidationContext) -> Iterator[Problem]:
    """A VirtualService routes or mirrors to a host (or port) no Service or ServiceEntry provides.

    Use the Service's name (`first-app`) or its full name
    (`first-app.staging.svc.cluster.local`) and one of its ports, create the Service (or
    a ServiceEntry for an external host), or export it to the VirtualService's namespace
    (`exportTo`, or the Service annotation `networking.istio.io/exportTo`).
    """
    for world in worlds(ctx):
        hosts = registry(world)
        for service in world.istio("VirtualService"):
            namespace = world.namespace_of(service)
            export_to = as_list(spec(service).get("exportTo"))
            for destination in destinations(service):
                what = "mirrors" if destination.mirror else "routes"
                entry = hosts.lookup(destination.host, namespace, export_to)
                if entry is None:
                    yield problem_at(
                        ctx,
                        world,
                        service,
                        f"{what} to host {destination.host} ({destination.where}), which no "
                        f"Service or ServiceEntry visible from namespace {namespace} provides",
                    )
                elif (
                    destination.port is not None
                    and entry.ports
                    and not any(p.number == destination.port for p in entry.ports)
                ):
                    known = ", ".join(str(p.number) for p in entry.ports)
                    yield problem_at(
                        ctx,
                        world,
                        service,
                        f"{what} to {destination.host}:{destination.port} "
                        f"({destination.where}), a port {entry.source.ref} does not expose "
                        f"(ports: {known})",
                    )


@rule(
    "MG415",
    "destination-port-required",
    Severity.ERROR,
    istio_code="IST0112",
    istio_analyzer="virtualservice.DestinationHostAnalyzer",
)
def destination_port_required(ctx: ValidationContext) -> Iterator[Problem]:
    """A VirtualService routes to a host with several ports without saying which.

    Add `port: {number: N}` to the destination; with several ports Istio cannot tell
    which one the route is for.
    """
    for world in worlds(ctx):
        hosts = registry(world)
        for service in world.istio("VirtualService"):
            namespace = world.namespace_of(service)
            export_to = as_list(spec(service).get("exportTo"))
            for destination in destinations(service):
                if destination.port is not None:
                    continue
                entry = hosts.lookup(destination.host, namespace, export_to)
                if entry is not None and len(entry.ports) > 1:
                    known = ", ".join(str(p.number) for p in entry.ports)
                    yield problem_at(
                        ctx,
                        world,
                        service,
                        f"routes to {destination.host} ({destination.where}) without a port, "
                        f"but {entry.source.ref} exposes several ({known})",
                    )


@rule(
    "MG414",
    "destination-rule-host-not-found",
    Severity.WARNING,
    istio_code="IST0174",
    istio_analyzer="destinationrule.SubsetSelectPodAnalyzer",
)
def destination_rule_host_not_found(ctx: ValidationContext) -> Iterator[Problem]:
    """A DestinationRule's host matches no Service or ServiceEntry in the mesh.

    Use the Service's name or full name, or create the Service (or a ServiceEntry for an
    external host); the rule's policies apply to nothing until then.
    """
    for world in worlds(ctx):
        hosts = registry(world)
        for rule_object in world.istio("DestinationRule"):
            host = str(spec(rule_object).get("host", ""))
            export_to = as_list(spec(rule_object).get("exportTo"))
            if host and hosts.lookup(host, world.namespace_of(rule_object), export_to) is None:
                yield problem_at(
                    ctx, world, rule_object, f"host {host} matches no Service or ServiceEntry"
                )


@rule("MG404", "route-weights", Severity.ERROR)
def route_weights(ctx: ValidationContext) -> Iterator[Problem]:
    """A VirtualService route's weights do not sum to 100, or are all zero.

    Give the destinations of each route whole weights that add up to 100; in a generated
    repository, fix `traffic:` in the environment file (`meshgen weights set`).
    """
    # An environment whose file already breaks the weight rules is reported once, by MG110.
    broken = {
        ref.environment.name for ref in ctx.environment_files if has_weight_problems(ref.file.data)
    }
    for world in worlds(ctx):
        if world.environment in broken:
            continue
        for service in world.istio("VirtualService"):
            routes: dict[str, list[tuple[str, object]]] = {}
            for destination in destinations(service):
                if not destination.mirror:
                    key = destination.where.rpartition(".route[")[0]
                    name = destination.subset or destination.host or "?"
                    routes.setdefault(key, []).append((name, destination.weight))
            for where, route in routes.items():
                weights = [weight for _, weight in route]
                if len(route) < 2 and all(w is None for w in weights):
                    continue
                numbers = [w if is_whole_number(w) else 0 for w in weights]
                total = sum(numbers)
                listed = " + ".join(
                    f"{name}={weight}" for (name, _), weight in zip(route, numbers, strict=True)
                )
                protocol = where.partition("[")[0]
                if total == 0:
                    yield problem_at(
                        ctx,
                        world,
                        service,
                        f"{protocol} route weights are all 0 ({listed}): it sends no traffic",
                    )
                elif total != 100:
                    yield problem_at(
                        ctx,
                        world,
                        service,
                        f"{protocol} route weights sum to {total}, not 100 ({listed})",
                    )

"""VirtualService routes: subsets, hosts and weights that resolve to real workloads."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from meshgen.traffic.weights import has_weight_problems, is_whole_number
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import spec, str_map
from meshgen.validate.facts.world import (
    World,
    host_matches,
    problem_at,
    route_destinations,
    selects,
    worlds,
)
from meshgen.validate.findings import Problem, Severity, rule


@rule("MG401", "subset-not-found", Severity.ERROR, istio_code="IST0101")
def subset_not_found(ctx: ValidationContext) -> Iterator[Problem]:
    """A VirtualService routes to a subset that no DestinationRule for that host defines.

    Add the subset to the host's DestinationRule (one subset per version), or route to a
    subset that exists; requests to a missing subset fail with 503.
    """
    for world in worlds(ctx):
        subsets: dict[str, set[str]] = {}
        for rule_object in world.istio("DestinationRule"):
            host = str(spec(rule_object).get("host", ""))
            fqdn = world.fqdn(host, world.namespace_of(rule_object))
            names = subsets.setdefault(fqdn, set())
            for subset in spec(rule_object).get("subsets") or []:
                if isinstance(subset, Mapping) and subset.get("name"):
                    names.add(str(subset["name"]))
        for service in world.istio("VirtualService"):
            namespace = world.namespace_of(service)
            for _, route in route_destinations(service):
                for entry in route:
                    destination = entry.get("destination")
                    if not isinstance(destination, Mapping) or not destination.get("subset"):
                        continue
                    host = str(destination.get("host", ""))
                    subset = str(destination["subset"])
                    fqdn = world.fqdn(host, namespace)
                    if fqdn not in subsets:
                        yield problem_at(
                            ctx,
                            world,
                            service,
                            f"routes to subset {subset!r} of {host}, but no DestinationRule "
                            f"has host {host}",
                        )
                    elif subset not in subsets[fqdn]:
                        known = ", ".join(sorted(subsets[fqdn])) or "none"
                        yield problem_at(
                            ctx,
                            world,
                            service,
                            f"routes to subset {subset!r} of {host}, which its DestinationRule "
                            f"does not define (subsets: {known})",
                        )


@rule("MG402", "subset-selects-no-pods", Severity.ERROR, istio_code="IST0173")
def subset_selects_no_pods(ctx: ValidationContext) -> Iterator[Problem]:
    """A DestinationRule subset's labels select no pod template behind the host's Service.

    Make the subset's labels match the pod template labels of one of the host's
    workloads (e.g. `version: v2`), deploy that version, or remove the subset.
    """
    for world in worlds(ctx):
        workloads = world.workloads()
        for rule_object in world.istio("DestinationRule"):
            host = str(spec(rule_object).get("host", ""))
            resolved = world.resolve_service(host, world.namespace_of(rule_object))
            if resolved is None:
                continue
            service = world.service(*resolved)
            if service is None:
                continue
            selector = str_map(spec(service).get("selector"))
            if not selector:
                continue
            behind = [
                w.pod_labels
                for w in workloads
                if w.namespace == resolved[1] and selects(selector, w.pod_labels)
            ]
            for subset in spec(rule_object).get("subsets") or []:
                if not isinstance(subset, Mapping):
                    continue
                wanted = str_map(subset.get("labels"))
                if not any(selects(wanted, labels) for labels in behind):
                    shown = ", ".join(f"{k}={v}" for k, v in wanted.items()) or "no labels"
                    yield problem_at(
                        ctx,
                        world,
                        rule_object,
                        f"subset {subset.get('name')!r} ({shown}) selects no pod template "
                        f"of Service {resolved[1]}/{resolved[0]}",
                    )


@rule("MG403", "host-not-found", Severity.ERROR, istio_code="IST0101")
def host_not_found(ctx: ValidationContext) -> Iterator[Problem]:
    """A VirtualService or DestinationRule names a cluster host that no Service provides.

    Use the Service's name (`first-app`) or its full name
    (`first-app.staging.svc.cluster.local`), or create the Service (or a ServiceEntry
    for an external host).
    """
    for world in worlds(ctx):
        entries = world.service_entry_hosts()

        def missing(
            host: str,
            namespace: str,
            *,
            external_ok: bool,
            w: World = world,
            known: set[str] = entries,
        ) -> bool:
            if "*" in host or not host or any(host_matches(e, host) for e in known):
                return False
            resolved = w.resolve_service(host, namespace)
            if resolved is None:
                return not external_ok
            return w.service(*resolved) is None

        for rule_object in world.istio("DestinationRule"):
            host = str(spec(rule_object).get("host", ""))
            if missing(host, world.namespace_of(rule_object), external_ok=False):
                yield problem_at(ctx, world, rule_object, f"host {host} names no Service")
        for service in world.istio("VirtualService"):
            namespace = world.namespace_of(service)
            reported: set[str] = set()
            for host in spec(service).get("hosts") or []:
                # VirtualService hosts may be external names served through a Gateway.
                if missing(str(host), namespace, external_ok=True):
                    reported.add(str(host))
                    yield problem_at(ctx, world, service, f"host {host} names no Service")
            for _, route in route_destinations(service):
                for entry in route:
                    destination = entry.get("destination")
                    if not isinstance(destination, Mapping):
                        continue
                    host = str(destination.get("host", ""))
                    if host in reported:
                        continue
                    if missing(host, namespace, external_ok=False):
                        reported.add(host)
                        yield problem_at(
                            ctx,
                            world,
                            service,
                            f"routes to host {host}, which names no Service or ServiceEntry",
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
            for protocol, route in route_destinations(service):
                weights = [entry.get("weight") for entry in route]
                if len(route) < 2 and all(w is None for w in weights):
                    continue
                numbers = [w if is_whole_number(w) else 0 for w in weights]
                total = sum(numbers)
                listed = " + ".join(
                    f"{_destination_name(entry)}={weight}"
                    for entry, weight in zip(route, numbers, strict=True)
                )
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


def _destination_name(entry: Mapping[str, object]) -> str:
    destination = entry.get("destination")
    if not isinstance(destination, Mapping):
        return "?"
    subset = destination.get("subset")
    return str(subset) if subset else str(destination.get("host", "?"))

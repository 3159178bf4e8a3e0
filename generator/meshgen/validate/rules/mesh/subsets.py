"""DestinationRule subsets against the pods they select (istioctl's
destinationrule.SubsetSelectPodAnalyzer)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_list, as_map, spec, str_map
from meshgen.validate.facts.endpoints import endpoints
from meshgen.validate.facts.hosts import destinations, registry, to_fqdn
from meshgen.validate.facts.world import World, problem_at, selects, worlds
from meshgen.validate.findings import Problem, Severity, rule


@rule(
    "MG402",
    "subset-selects-no-pods",
    Severity.ERROR,
    istio_code="IST0173",
    istio_analyzer="destinationrule.SubsetSelectPodAnalyzer",
)
def subset_selects_no_pods(ctx: ValidationContext) -> Iterator[Problem]:
    """A DestinationRule subset's labels select no pod behind the host.

    Make the subset's labels match the pod labels of one of the host's workloads (e.g.
    `version: v2`; a node's zone, region and name count too), deploy that version, or
    remove the subset. Requests routed to it fail with 503; a subset no route uses yet is
    reported as a warning.
    """
    for world in worlds(ctx):
        hosts = registry(world)
        pods = endpoints(world)
        routed = _routed_subsets(world)
        for rule_object in world.istio("DestinationRule"):
            namespace = world.namespace_of(rule_object)
            host = str(spec(rule_object).get("host", ""))
            entry = hosts.lookup(host, namespace, as_list(spec(rule_object).get("exportTo")))
            if entry is None:
                continue  # MG414
            source = entry.source
            base = (
                str_map(spec(source).get("selector"))
                if source.kind == "Service"
                else str_map(as_map(spec(source).get("workloadSelector")).get("labels"))
            )
            for subset in as_list(spec(rule_object).get("subsets")):
                if not isinstance(subset, Mapping):
                    continue
                wanted = {**base, **str_map(subset.get("labels"))}
                if any(selects(wanted, pod.labels) for pod in pods):
                    continue
                name = str(subset.get("name"))
                shown = ", ".join(f"{k}={v}" for k, v in wanted.items()) or "no labels"
                used = (to_fqdn(host, namespace), name) in routed
                yield problem_at(
                    ctx,
                    world,
                    rule_object,
                    f"subset {name!r} ({shown}) selects no pod of {source.ref}"
                    + ("" if used else "; no route sends traffic to it yet"),
                    None if used else Severity.WARNING,
                )


def _routed_subsets(world: World) -> set[tuple[str, str]]:
    """(host, subset) pairs some VirtualService sends traffic to."""
    routed = set()
    for service in world.istio("VirtualService"):
        namespace = world.namespace_of(service)
        for destination in destinations(service):
            if destination.subset and destination.weight != 0:
                routed.add((to_fqdn(destination.host, namespace), destination.subset))
    return routed

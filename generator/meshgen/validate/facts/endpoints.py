"""The pods a selector can select, labelled as Istio's service registry labels them.

istioctl matches selectors against Pods; from manifests meshgen also counts the pod
templates of Deployments and the other workload kinds, since their pods are what the
cluster will run. Istio adds the topology labels of a pod's node (region, zone,
subzone, and the node name as `kubernetes.io/hostname`) to the pod's own labels, so a
DestinationRule subset may select by them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from meshgen.render import Manifest
from meshgen.validate.facts.access import as_map, labels_of, str_map
from meshgen.validate.facts.world import World

TOPOLOGY_LABELS = (
    "topology.kubernetes.io/region",
    "topology.kubernetes.io/zone",
    "topology.istio.io/subzone",
)
HOSTNAME_LABEL = "kubernetes.io/hostname"


@dataclass(frozen=True)
class Endpoint:
    namespace: str
    labels: Mapping[str, str]
    origin: Manifest


def endpoints(world: World) -> list[Endpoint]:
    """Every pod (or pod template) of the World, with its node's topology labels."""
    found = world.cache.get("endpoints")
    if isinstance(found, list):
        return found
    nodes = {node.name: labels_of(node.data) for node in world.kind("Node")}
    result = []
    for workload in world.workloads():
        labels = dict(workload.pod_labels)
        node_name = workload.pod.get("nodeName")
        if isinstance(node_name, str) and node_name:
            node = nodes.get(node_name, {})
            labels.update({key: node[key] for key in TOPOLOGY_LABELS if node.get(key)})
            labels[HOSTNAME_LABEL] = node_name
        result.append(Endpoint(workload.namespace, labels, workload.manifest))
    world.cache["endpoints"] = result
    return result


def workload_selector(manifest: Manifest, key: str = "selector") -> dict[str, str]:
    """A policy's `spec.selector.matchLabels` (or `spec.workloadSelector.labels`)."""
    body = as_map(manifest.data.get("spec"))
    if key == "workloadSelector":
        return str_map(as_map(body.get("workloadSelector")).get("labels"))
    return str_map(as_map(body.get(key)).get("matchLabels"))

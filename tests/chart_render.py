"""Rendering the first-app chart for the chart's tests: through meshgen's own render path
(embedded Helm SDK, install order), with the default environment files that `meshgen new`
copies, so what the tests check is what a generated repository deploys.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from meshgen import resources, yamlio
from meshgen.helm.sdk import EmbeddedHelm
from meshgen.render import Manifest, Rendering, render_app
from meshgen.repo import App, Environment, Repo

KUBERNETES_VERSION = "1.34"
DEFAULT_ENVIRONMENTS = ("staging", "production")
CHART = "charts/first-app"
HEADER = "x-first-app-version"

BACKEND = EmbeddedHelm()


def default_values(environment: str) -> dict[str, Any]:
    """The environment file `meshgen new` writes for `environment`, as Helm values."""
    path = resources.environments_dir() / "defaults" / f"{environment}.yaml"
    return dict(yamlio.to_plain(yamlio.load_roundtrip(path)))


def render(values: Mapping[str, Any], namespace: str = "staging") -> Rendering:
    repo = Repo(
        root=resources.data_root(),
        name="acme-mesh",
        gitops="argocd",
        kubernetes_version=KUBERNETES_VERSION,
        environments=(Environment(namespace, namespace, "acme-mesh"),),
        apps=(App("first-app", CHART),),
    )
    return render_app(repo, repo.environments[0], repo.apps[0], BACKEND, values)


def objects(values: Mapping[str, Any], namespace: str = "staging") -> list[Manifest]:
    return list(render(values, namespace).manifests)


def of_kind(manifests: list[Manifest], kind: str) -> list[Mapping[str, Any]]:
    return [m.data for m in manifests if m.kind == kind]


def version(image_suffix: str, replicas: int = 1) -> dict[str, Any]:
    return {
        "image": {
            "repository": f"registry.istio.io/release/examples-helloworld-{image_suffix}",
            "tag": "1.0",
        },
        "replicas": replicas,
    }


def three_versions() -> dict[str, Any]:
    values = default_values("staging")
    values["versions"]["v3"] = version("v2", replicas=2)
    values["traffic"] = {"v1": 80, "v2": 15, "v3": 5}
    return values


def one_version() -> dict[str, Any]:
    values = default_values("staging")
    values["versions"] = {"v1": version("v1")}
    values["traffic"] = {"v1": 100}
    return values


SCENARIOS = {
    "staging": lambda: default_values("staging"),
    "production": lambda: default_values("production"),
    "three-versions": three_versions,
    "one-version": one_version,
}


def weighted_route(service_route: Mapping[str, Any]) -> Mapping[str, Any]:
    (route,) = [r for r in service_route["spec"]["http"] if r.get("name") == "weighted"]
    return route


def pod_specs(manifests: list[Manifest]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for manifest in manifests:
        if manifest.kind == "Deployment":
            yield manifest.ref, manifest.data["spec"]["template"]["spec"]
        elif manifest.kind == "Pod":
            yield manifest.ref, manifest.data["spec"]


def helm_test_pod(values: Mapping[str, Any]) -> Mapping[str, Any]:
    """The chart's `helm test` pod."""
    (pod,) = of_kind(objects(values), "Pod")
    return pod

"""Apply (for real) a whole generated repository into the test API server, in the order
its GitOps engine would, and check that the server accepts every object.

What the engine fetches is taken from here instead: the pinned upstream charts from
../shared/upstream-charts (rendered with the repository's values, as Argo CD and Flux's
helm-controller do), kustomizations with kubectl's kustomize, the app chart with
`meshgen render`. Admission webhook configurations are applied last: their servers
(istiod, cert-manager's webhook) are pods, which this cluster without nodes never
runs, while a real sync waits for them to be healthy before the next wave.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import Invoke
from kube_server import SHARED, KubeApi, dump
from meshgen.helm.sdk import EmbeddedHelm
from meshgen.kubectl import is_test_hook
from meshgen.render import Manifest, render_app
from meshgen.repo import Repo, load_repo

pytestmark = pytest.mark.slow

Obj = Mapping[str, Any]
WEBHOOKS = {"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"}
# Helm's own split: a line starting with `---` (upstream charts write `---# comment`).
_DOCUMENT = re.compile(r"(?m)^---")
FIRST = ("Namespace", "CustomResourceDefinition")


class Sync:
    """Applies objects step by step as one engine, keeping webhooks for the end."""

    def __init__(self, server: KubeApi, manager: str) -> None:
        self.server = server
        self.manager = manager
        self.deferred: list[Obj] = []
        self.applied: list[str] = []

    def step(self, objects: Sequence[Obj], *, namespace: str = "") -> None:
        if namespace:
            self.server.ensure_namespaces([namespace])
        ordered = sorted(
            (obj for obj in objects if obj.get("kind") not in WEBHOOKS),
            key=lambda obj: FIRST.index(obj["kind"]) if obj.get("kind") in FIRST else 2,
        )
        self.deferred.extend(obj for obj in objects if obj.get("kind") in WEBHOOKS)
        self._apply(ordered, namespace)

    def finish(self) -> None:
        """Apply the webhook configurations, then take them away again: with no pod to
        answer, the server would refuse every later object they cover (the next
        environment's, other tests')."""
        self._apply(self.deferred, "")
        if self.deferred:
            self.server.kubectl(
                "delete", "--ignore-not-found", "--filename=-", input=dump(self.deferred)
            )
        self.deferred = []

    def _apply(self, objects: Sequence[Obj], namespace: str) -> None:
        if not objects:
            return
        args = ["apply", "--server-side", "--force-conflicts", f"--field-manager={self.manager}"]
        if namespace:
            args += ["--namespace", namespace]
        result = self.server.kubectl(*args, "-o", "name", "--filename=-", input=dump(objects))
        accepted = result.stdout.split()
        # kubectl names each object it applied: every one was accepted, none was dropped.
        assert len(accepted) == len(objects), result.stdout + result.stderr
        self.applied.extend(accepted)


def documents(text: str) -> list[Obj]:
    found = []
    for chunk in _DOCUMENT.split(text):
        data = yaml.safe_load(chunk)
        if isinstance(data, Mapping) and "kind" in data:
            found.append(data)
    return found


def yaml_files(folder: Path) -> list[Obj]:
    return [obj for path in sorted(folder.glob("*.yaml")) for obj in documents(path.read_text())]


def kustomize(server: KubeApi, folder: Path) -> list[Obj]:
    """A folder as Flux's kustomize-controller builds it."""
    if not any((folder / name).is_file() for name in ("kustomization.yaml", "kustomization.yml")):
        # Flux generates a kustomization of every manifest below the folder.
        return [
            obj for path in sorted(folder.rglob("*.yaml")) for obj in documents(path.read_text())
        ]
    # Files anywhere in the repository, not only below the folder, as Flux allows.
    build = server.kubectl("kustomize", "--load-restrictor=LoadRestrictionsNone", str(folder))
    return documents(build.stdout)


def chart_objects(chart: str, version: str, values: Obj, release: str, namespace: str) -> list[Obj]:
    archive = SHARED / "upstream-charts" / f"{chart}-{version}.tgz"
    assert archive.is_file(), f"the repository pins {chart} {version}, absent from {archive.parent}"
    objects = []
    for template in EmbeddedHelm().render(
        archive, dict(values), release=release, namespace=namespace, kube_version="1.34"
    ):
        for obj in documents(template.text):
            if not is_test_hook(Manifest(template.source, 1, "", obj)):
                objects.append(obj)
    return objects


def app_objects(repo: Repo, environment: str) -> Iterator[Obj]:
    backend = EmbeddedHelm()
    for app in repo.apps:
        rendering = render_app(repo, repo.environment(environment), app, backend)
        yield from (m.data for m in rendering.manifests if not is_test_hook(m))


def wave(obj: Obj) -> int:
    annotations = obj.get("metadata", {}).get("annotations") or {}
    return int(annotations.get("argocd.argoproj.io/sync-wave", "0"))


def sync_argocd(server: KubeApi, root: Path) -> Sync:
    sync = Sync(server, "argocd-controller")
    repo = load_repo(root)
    gitops = root / "gitops" / "argocd"
    sync.step(yaml_files(gitops), namespace="argocd")
    sync.step(yaml_files(gitops / "bootstrap"), namespace="argocd")
    apps = sorted(yaml_files(gitops / "apps"), key=wave)
    sync.step(apps, namespace="argocd")
    for app in apps:
        if app["kind"] == "ApplicationSet":
            for element in app["spec"]["generators"][0]["list"]["elements"]:
                sync.step(list(app_objects(repo, element["environment"])))
            continue
        if app["kind"] != "Application":
            continue
        spec = app["spec"]
        namespace = spec["destination"]["namespace"]
        for source in spec.get("sources") or [spec["source"]]:
            if "chart" in source:
                values: dict[str, Any] = {}
                for name in source["helm"].get("valueFiles", []):
                    path = root / name.removeprefix("$values/")
                    values.update(yaml.safe_load(path.read_text()) or {})
                release = source["helm"]["releaseName"]
                rendered = chart_objects(
                    source["chart"], source["targetRevision"], values, release, namespace
                )
                sync.step(rendered, namespace=namespace)
            elif "path" in source:
                sync.step(kustomize(server, root / source["path"]), namespace=namespace)
    sync.finish()
    return sync


def sync_flux(server: KubeApi, root: Path, environment: str) -> Sync:
    sync = Sync(server, "kustomize-controller")
    repo = load_repo(root)
    cluster = root / "gitops" / "flux" / "clusters" / environment
    kustomizations = yaml_files(cluster)
    sync.step(kustomizations, namespace="flux-system")
    by_name = {k["metadata"]["name"]: k for k in kustomizations if k["kind"] == "Kustomization"}
    for name in flux_order(by_name):
        path = root / by_name[name]["spec"]["path"]
        if path == cluster:
            continue
        objects = kustomize(server, path)
        sync.step(objects, namespace="flux-system")
        config_maps = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ConfigMap"}
        releases = {o["metadata"]["name"]: o for o in objects if o["kind"] == "HelmRelease"}
        for release_name in flux_order(releases):
            spec = releases[release_name]["spec"]
            namespace = spec["targetNamespace"]
            chart = spec["chart"]["spec"]
            if chart["sourceRef"]["kind"] == "GitRepository":
                sync.step(list(app_objects(repo, environment)))
                continue
            values: dict[str, Any] = {}
            for source in spec.get("valuesFrom", []):
                data = config_maps[source["name"]]["data"][source["valuesKey"]]
                values.update(yaml.safe_load(data) or {})
            rendered = chart_objects(
                chart["chart"], chart["version"], values, spec["releaseName"], namespace
            )
            sync.step(rendered, namespace=namespace)
    sync.finish()
    return sync


def flux_order(objects: Mapping[str, Obj]) -> list[str]:
    """Names in `dependsOn` order, as Flux reconciles them."""
    done: list[str] = []

    def visit(name: str) -> None:
        if name in done:
            return
        for dependency in objects[name]["spec"].get("dependsOn", []):
            visit(dependency["name"])
        done.append(name)

    for name in objects:
        visit(name)
    return done


# Environments of their own: the dry-run tests' namespaces and objects stay theirs.
ENVIRONMENTS = ("qa", "live")


def new_repo(invoke: Invoke, root: Path, *options: str) -> Path:
    environments = [arg for env in ENVIRONMENTS for arg in ("--env", env)]
    invoke(["new", str(root), "--no-input", *environments, *options])
    return root


def test_argocd_repository_is_accepted_object_by_object(
    kube_api: KubeApi, invoke: Invoke, tmp_path: Path
) -> None:
    root = new_repo(invoke, tmp_path / "applied-argocd")
    sync = sync_argocd(kube_api, root)
    for environment in ENVIRONMENTS:
        for expected in (
            f"application.argoproj.io/{environment}-istiod",
            "customresourcedefinition.apiextensions.k8s.io/virtualservices.networking.istio.io",
            "deployment.apps/istiod",
            "clusterissuer.cert-manager.io/letsencrypt-production",
            f"gateway.networking.istio.io/first-app-{environment}",
            "virtualservice.networking.istio.io/first-app",
            "validatingwebhookconfiguration.admissionregistration.k8s.io/istiod-default-validator",
        ):
            assert expected in sync.applied
        live = kube_api.kubectl("get", "deployments", "-n", environment, "-o", "name").stdout
        assert "deployment.apps/first-app-v1" in live.split()


def test_flux_repository_is_accepted_object_by_object(
    kube_api: KubeApi, invoke: Invoke, tmp_path: Path
) -> None:
    root = new_repo(invoke, tmp_path / "applied-flux", "--gitops", "flux")
    for environment in ENVIRONMENTS:
        sync = sync_flux(kube_api, root, environment)
        for expected in (
            "helmrelease.helm.toolkit.fluxcd.io/istiod",
            "deployment.apps/istiod",
            "clusterissuer.cert-manager.io/letsencrypt-production",
            f"gateway.networking.istio.io/first-app-{environment}",
            "virtualservice.networking.istio.io/first-app",
        ):
            assert expected in sync.applied

"""`meshgen validate --kubectl --dry-run server` against a real kube-apiserver.

The server (tests/kube_server.py) is the real one of the repositories' Kubernetes
minor, with the platform's CRDs installed; each test generates its repositories with
`meshgen new` and prepares the cluster as the GitOps engine would (the namespaces the
chart and the platform applications create), then asks the server to judge. Each case
below is one that no schema can see, shown failing and then passing once fixed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import Invoke
from kube_server import CONTEXT, KubeApi
from meshgen.helm import select_backend
from meshgen.render import render_app
from meshgen.repo import load_repo

pytestmark = pytest.mark.slow

NewRepo = Callable[..., Path]


@pytest.fixture
def new_repo(invoke: Invoke, tmp_path: Path) -> NewRepo:
    def make(engine: str = "argocd", name: str = "acme-mesh") -> Path:
        target = tmp_path / f"{engine}-{name}"
        args = ["new", str(target), "--no-input"]
        invoke(args if engine == "argocd" else [*args, "--gitops", engine])
        return target

    return make


@pytest.fixture
def server(kube_api: KubeApi, monkeypatch: pytest.MonkeyPatch) -> Iterator[KubeApi]:
    """The session's API server, with its own kubectl first on PATH for meshgen."""
    monkeypatch.setenv("PATH", f"{kube_api.bin_dir}:{Path('/usr/bin')}:{Path('/bin')}")
    yield kube_api


def prepare(server: KubeApi, repo: Path) -> None:
    """What the engine has created before an app's objects: its namespaces.

    The chart's own Namespace is applied first (Argo CD and Helm order it first); the
    other namespaces its objects live in (the ingress gateway's) are the platform
    applications' (`CreateNamespace=true`, Flux's platform Namespace manifests).
    """
    model = load_repo(repo)
    backend = select_backend(None)
    for environment in model.environments:
        for app in model.apps:
            manifests = render_app(model, environment, app, backend).manifests
            own = [m.data for m in manifests if m.kind == "Namespace"]
            server.apply(own, manager=f"engine.{environment.name}.{app.name}")
            server.ensure_namespaces([m.namespace for m in manifests if m.namespace])


def validate(invoke: Invoke, server: KubeApi, repo: Path, *, expect: int, env: str = "") -> str:
    args = ["-C", str(repo), "validate", "--kubectl", "--kubeconfig", str(server.kubeconfig)]
    args += ["--context", CONTEXT, "--dry-run", "server", "--select", "MG9", "--timeout", "120"]
    if env:
        args += ["--env", env]
    return str(invoke(args, expect=expect).stdout)


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_fresh_repository_is_accepted_in_every_environment(
    server: KubeApi, new_repo: NewRepo, invoke: Invoke, engine: str
) -> None:
    repo = new_repo(engine, name=f"fresh-{engine}")
    prepare(server, repo)
    output = validate(invoke, server, repo, expect=0)
    assert "MG901" not in output
    # Every environment was judged: the server holds what the dry-run could not skip.
    model = load_repo(repo)
    assert [e.name for e in model.environments] == ["staging", "production"]


EXTRA = "charts/first-app/templates/extra.yaml"


def with_template(repo: Path, text: str) -> None:
    (repo / EXTRA).write_text(text, encoding="utf-8")


def finding(output: str) -> str:
    """The one MG901 line of `output`."""
    lines = [line for line in output.splitlines() if " MG901 " in line]
    assert len(lines) == 1, output
    return lines[0]


CONFIG_MAP = """\
# Settings shared by the versions.
apiVersion: v1
kind: ConfigMap
metadata:
  name: NAME
  namespace: {{ .Release.Namespace }}
  labels:
    team: TEAM
data:
  greeting: hello
"""

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: first-app-metrics
  namespace: {{ .Release.Namespace }}
spec:
  selector:
    app: first-app
  ports:
    - name: PORT_NAME
      port: 9090
"""

# Istio's CRDs carry CEL rules (`x-kubernetes-validations`) that only the server runs.
DESTINATION_RULE = """\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: first-app-pool
  namespace: {{ .Release.Namespace }}
spec:
  host: first-app
  trafficPolicy:
    connectionPool:
      tcp:
        connectTimeout: TIMEOUT
"""

LONG_NAME = "settings-" + "x" * 250


def _fill(template: str, **values: str) -> str:
    for key, value in values.items():
        template = template.replace(key, value)
    return template


@pytest.mark.parametrize(
    ("bad", "good", "line_number", "messages"),
    [
        pytest.param(
            _fill(CONFIG_MAP, NAME="settings", TEAM='"platform team"'),
            _fill(CONFIG_MAP, NAME="settings", TEAM="platform-team"),
            2,
            ['ConfigMap "settings" is invalid', 'metadata.labels: Invalid value: "platform team"'],
            id="label-value",
        ),
        pytest.param(
            _fill(CONFIG_MAP, NAME=LONG_NAME, TEAM="web"),
            _fill(CONFIG_MAP, NAME="settings", TEAM="web"),
            2,
            # meshgen cuts the long name in its message; the server's reason stays.
            ['ConfigMap "settings-xxx', "must be no more than 253 characters"],
            id="name-too-long",
        ),
        pytest.param(
            _fill(SERVICE, PORT_NAME="http_metrics"),
            _fill(SERVICE, PORT_NAME="http-metrics"),
            1,
            [
                'Service "first-app-metrics" is invalid',
                'spec.ports[0].name: Invalid value: "http_metrics"',
            ],
            id="service-port-name",
        ),
        pytest.param(
            _fill(DESTINATION_RULE, TIMEOUT="0s"),
            _fill(DESTINATION_RULE, TIMEOUT="1s"),
            1,
            [
                'The DestinationRule "first-app-pool" is invalid',
                "spec.trafficPolicy.connectionPool.tcp.connectTimeout",
                "must be a valid duration greater than 1ms",
            ],
            id="istio-cel-rule",
        ),
    ],
)
def test_what_only_the_server_refuses(
    server: KubeApi,
    new_repo: NewRepo,
    invoke: Invoke,
    bad: str,
    good: str,
    line_number: int,
    messages: list[str],
) -> None:
    repo = new_repo()
    prepare(server, repo)
    with_template(repo, bad)
    line = finding(validate(invoke, server, repo, expect=1, env="staging"))
    assert line.startswith(f"{EXTRA}:{line_number}:1: MG901 error: [staging/first-app] "), line
    for message in messages:
        assert message in line
    with_template(repo, good)
    validate(invoke, server, repo, expect=0, env="staging")


SERVICE_MONITOR = """\
apiVersion: monitoring.example.com/v1
kind: ServiceMonitor
metadata:
  name: first-app
  namespace: {{ .Release.Namespace }}
spec:
  endpoints:
    - port: http
"""

SERVICE_MONITOR_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "servicemonitors.monitoring.example.com"},
    "spec": {
        "group": "monitoring.example.com",
        "names": {"kind": "ServiceMonitor", "plural": "servicemonitors"},
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": True,
                    }
                },
            }
        ],
    },
}


def test_object_whose_crd_is_not_installed(
    server: KubeApi, new_repo: NewRepo, invoke: Invoke
) -> None:
    repo = new_repo()
    prepare(server, repo)
    with_template(repo, SERVICE_MONITOR)
    line = finding(validate(invoke, server, repo, expect=1, env="staging"))
    assert line.startswith(f"{EXTRA}:1:1: MG901 error: [staging/first-app] "), line
    assert 'no matches for kind "ServiceMonitor" in version "monitoring.example.com/v1"' in line
    server.apply([SERVICE_MONITOR_CRD], manager="test")
    try:
        server.kubectl(
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "crd/"
            + str(
                SERVICE_MONITOR_CRD["metadata"]["name"]  # type: ignore[index]
            ),
        )
        validate(invoke, server, repo, expect=0, env="staging")
    finally:
        server.kubectl("delete", "crd", "servicemonitors.monitoring.example.com")


SHARED_SETTINGS = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: NAME
  namespace: {{ .Release.Namespace }}
data:
  owner: first-app
"""


def test_two_releases_owning_one_object(server: KubeApi, new_repo: NewRepo, invoke: Invoke) -> None:
    """Server-side apply: a field another release applied with another value conflicts."""
    repo = new_repo(name="conflict")
    prepare(server, repo)
    namespace = load_repo(repo).environment("staging").namespace
    other = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "mesh-settings", "namespace": namespace},
        "data": {"owner": "second-app"},
    }
    server.apply([other], manager="meshgen.staging.second-app")
    try:
        with_template(repo, SHARED_SETTINGS.replace("NAME", "mesh-settings"))
        line = finding(validate(invoke, server, repo, expect=1, env="staging"))
        assert line.startswith(f"{EXTRA}:1:1: MG901 error: [staging/first-app] "), line
        assert 'conflict with "meshgen.staging.second-app"' in line
        assert ".data.owner" in line
        # One owner per object: the release renders a name of its own.
        with_template(repo, SHARED_SETTINGS.replace("NAME", "first-app-settings"))
        validate(invoke, server, repo, expect=0, env="staging")
    finally:
        server.kubectl("delete", "configmap", "mesh-settings", "-n", namespace)

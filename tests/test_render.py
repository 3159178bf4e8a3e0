"""`meshgen render`: the seed's objects, deterministic output, and the output folder."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from conftest import Invoke
from meshgen import render
from meshgen.helm.base import RenderedTemplate
from meshgen.render import Rendering
from meshgen.repo import App, Environment, Repo


def _objects(stream: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(stream) if doc]


def _by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def _weights(service_route: dict[str, Any]) -> dict[str, int]:
    """The weighted route's split; routes before it match the version header."""
    (weighted,) = [r for r in service_route["spec"]["http"] if r.get("name") == "weighted"]
    return {r["destination"]["subset"]: r["weight"] for r in weighted["route"]}


def test_staging_renders_the_seed_objects(repo_copy: Callable[[str], Path], invoke: Invoke) -> None:
    repo = repo_copy("argocd")
    objects = _objects(invoke(["-C", str(repo), "render", "--env", "staging"]).stdout)

    (namespace,) = _by_kind(objects, "Namespace")
    assert namespace["metadata"]["name"] == "staging"
    assert namespace["metadata"]["labels"]["istio-injection"] == "enabled"

    apps = [
        d
        for d in _by_kind(objects, "Deployment")
        if d["metadata"]["name"].startswith("first-app-v")
    ]
    versions = sorted(d["spec"]["template"]["metadata"]["labels"]["version"] for d in apps)
    assert versions == ["v1", "v2"]
    for deployment in apps:
        assert deployment["spec"]["template"]["metadata"]["labels"]["app"] == "first-app"

    (service,) = _by_kind(objects, "Service")
    assert service["spec"]["selector"] == {"app": "first-app"}

    (rule,) = _by_kind(objects, "DestinationRule")
    assert {s["name"]: s["labels"] for s in rule["spec"]["subsets"]} == {
        "v1": {"version": "v1"},
        "v2": {"version": "v2"},
    }

    (service_route,) = _by_kind(objects, "VirtualService")
    assert _weights(service_route) == {"v1": 100, "v2": 0}
    assert "mesh" in service_route["spec"]["gateways"]


def test_render_is_deterministic_and_starts_with_the_namespace(
    repo_copy: Callable[[str], Path], invoke: Invoke
) -> None:
    repo = repo_copy("argocd")
    first = invoke(["-C", str(repo), "render", "--env", "production"]).stdout
    second = invoke(["-C", str(repo), "render", "--env", "production"]).stdout
    assert first == second
    assert first.startswith("---\n# Source: charts/first-app/templates/namespace.yaml\n")


def test_render_follows_the_environment_file(
    repo_copy: Callable[[str], Path], invoke: Invoke
) -> None:
    repo = repo_copy("argocd")
    overlay = repo / "environments" / "staging" / "first-app.yaml"
    overlay.write_text(overlay.read_text().replace("v1: 100", "v1: 75").replace("v2: 0", "v2: 25"))
    objects = _objects(invoke(["-C", str(repo), "render", "--env", "staging"]).stdout)
    (service_route,) = _by_kind(objects, "VirtualService")
    assert _weights(service_route) == {"v1": 75, "v2": 25}


def test_render_to_an_output_folder(
    repo_copy: Callable[[str], Path], invoke: Invoke, tmp_path: Path
) -> None:
    repo = repo_copy("flux")
    out = tmp_path / "rendered"
    invoke(["-C", str(repo), "render", "--env", "staging", "--output", str(out)])
    written = (out / "staging" / "first-app.yaml").read_text()
    assert written == invoke(["-C", str(repo), "render", "--env", "staging"]).stdout


def test_render_unknown_environment_is_a_usage_error(
    repo_copy: Callable[[str], Path], invoke: Invoke
) -> None:
    repo = repo_copy("argocd")
    result = invoke(["-C", str(repo), "render", "--env", "qa"], expect=2)
    assert "unknown environment 'qa'" in result.stderr
    assert "staging, production" in result.stderr


def test_render_outside_a_repository(tmp_path: Path, invoke: Invoke) -> None:
    result = invoke(["-C", str(tmp_path), "render", "--env", "staging"], expect=2)
    assert "not a meshgen repository" in result.stderr


def _configmaps(count: int) -> str:
    return "".join(
        f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{n}\ndata:\n  k: v{n}\n"
        for n in range(count)
    )


def test_assembling_twenty_thousand_objects_takes_seconds(tmp_path: Path) -> None:
    """Post-processing is linear: it once re-split the whole text for every object."""
    chart = tmp_path / "charts" / "bench"
    (chart / "templates").mkdir(parents=True)
    (chart / "templates" / "many.yaml").write_text("apiVersion: v1\nkind: ConfigMap\n")
    environment = Environment("staging", "staging", "c")
    app = App("bench", "charts/bench")
    repo = Repo(tmp_path, "bench", "argocd", "1.34", (environment,), (app,))

    def assemble(count: int) -> tuple[float, Rendering]:
        templates = [RenderedTemplate("bench/templates/many.yaml", _configmaps(count))]
        start = time.perf_counter()
        rendering = render.assemble(repo, environment, app, templates)
        return time.perf_counter() - start, rendering

    small, _ = assemble(1_000)
    large, rendering = assemble(20_000)
    assert len(rendering.manifests) == 20_000
    last = rendering.manifests[-1]
    assert last.name == "c19999"
    assert (
        last.text
        == "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c19999\ndata:\n  k: v19999\n"
    )
    assert last.line == 1  # the template's `apiVersion:` line
    # Twenty times the objects: linear work takes about twenty times as long; the
    # quadratic version took four hundred times (224 s).
    assert large < 60
    assert large < 60 * max(small, 0.05)

"""Every kustomize folder a fresh repository asks its GitOps engine to build, built by kustomize.

`meshgen validate` reads kustomization.yaml files one by one; kustomize itself also refuses
whole layouts, for example a base folder that contains the overlay including it ("cycle
detected"), which only a real build shows.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REAL_DOMAIN, REAL_EMAIL

pytestmark = pytest.mark.skipif(
    shutil.which("kubectl") is None,
    reason="kubectl is not installed: the kustomize builds of generated repositories are unchecked",
)

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml")
# Every optional platform part on, then off: each adds files the kustomizations name.
VARIANTS = {
    "all-parts": {"aws_load_balancer_controller": True, "external_dns": True},
    "no-parts": {"aws_load_balancer_controller": False, "external_dns": False},
}


def generated(engine: str, switches: Mapping[str, bool], target: Path) -> Path:
    from meshgen.scaffold import answers_from_mapping, generate

    answers = answers_from_mapping(
        {
            "name": "acme-mesh",
            "gitops": engine,
            "domain": REAL_DOMAIN,
            "acme_email": REAL_EMAIL,
            "environments": ["staging", "production"],
            **switches,
        }
    )
    return generate(answers, target, git=False).path


def objects(root: Path) -> Iterator[Mapping[str, Any]]:
    for path in sorted((root / "gitops").rglob("*.yaml")):
        for data in yaml.safe_load_all(path.read_text()):
            if isinstance(data, Mapping):
                yield data


def is_kustomize_folder(folder: Path) -> bool:
    return any((folder / name).is_file() for name in KUSTOMIZATION_FILES)


def flux_paths(root: Path) -> list[str]:
    return [
        obj["spec"]["path"]
        for obj in objects(root)
        if obj.get("kind") == "Kustomization"
        and str(obj.get("apiVersion", "")).startswith("kustomize.toolkit.fluxcd.io/")
    ]


def argocd_paths(root: Path) -> list[str]:
    found = []
    for obj in objects(root):
        if obj.get("kind") != "Application":
            continue
        spec = obj["spec"]
        for source in [spec.get("source"), *spec.get("sources", [])]:
            if isinstance(source, Mapping) and source.get("path"):
                found.append(source["path"])
    return found


def build(root: Path, path: str, *restrictor: str) -> subprocess.CompletedProcess[str]:
    folder = (root / path).resolve()
    return subprocess.run(
        ["kubectl", "kustomize", *restrictor, str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_flux_kustomization_path_builds(variant: str, tmp_path: Path) -> None:
    root = generated("flux", VARIANTS[variant], tmp_path / "flux")
    paths = sorted({p for p in flux_paths(root) if is_kustomize_folder(root / p)})
    # The platform of each environment is among them: the test cannot pass on nothing.
    assert {"./gitops/flux/platform/staging", "./gitops/flux/platform/production"} <= set(paths)
    for path in paths:
        # kustomize-controller builds with files allowed anywhere in the source.
        result = build(root, path, "--load-restrictor=LoadRestrictionsNone")
        assert result.returncode == 0, f"{path}: {result.stderr}"
        kinds = {obj["kind"] for obj in yaml.safe_load_all(result.stdout) if obj}
        assert kinds, f"{path} builds to nothing"


def test_flux_platform_build_holds_the_releases_and_the_environment_values(
    tmp_path: Path,
) -> None:
    root = generated("flux", VARIANTS["all-parts"], tmp_path / "flux")
    result = build(root, "gitops/flux/platform/staging", "--load-restrictor=LoadRestrictionsNone")
    assert result.returncode == 0, result.stderr
    built = [obj for obj in yaml.safe_load_all(result.stdout) if obj]
    names = {(obj["kind"], obj["metadata"]["name"]) for obj in built}
    for expected in (
        ("HelmRelease", "istiod"),
        ("HelmRelease", "istio-gateway"),
        ("HelmRelease", "cert-manager"),
        ("ConfigMap", "istiod-values"),
        ("ConfigMap", "istiod-environment-values"),
        ("Namespace", "istio-ingress"),
        ("Namespace", "cert-manager"),
    ):
        assert expected in names
    staging = next(o for o in built if o["metadata"]["name"] == "istiod-environment-values")
    own = (root / "platform/istio/staging/istiod.values.yaml").read_text()
    assert staging["data"]["values.yaml"] == own


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_argocd_kustomize_source_builds(variant: str, tmp_path: Path) -> None:
    root = generated("argocd", VARIANTS[variant], tmp_path / "argocd")
    paths = sorted({p for p in argocd_paths(root) if is_kustomize_folder(root / p)})
    assert "platform/cert-manager" in paths
    for path in paths:
        # Argo CD builds with kustomize's default: no file outside the folder.
        result = build(root, path)
        assert result.returncode == 0, f"{path}: {result.stderr}"
        assert any(yaml.safe_load_all(result.stdout)), f"{path} builds to nothing"

"""Both Helm backends render the same manifests; the SDK is the default."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Invoke
from meshgen.helm import select_backend
from meshgen.helm.binary import BinaryHelm
from meshgen.helm.sdk import EmbeddedHelm
from meshgen.render import render_app
from meshgen.repo import load_repo


def test_default_backend_is_the_embedded_sdk() -> None:
    backend = select_backend()
    assert isinstance(backend, EmbeddedHelm)
    assert backend.describe().startswith("embedded Helm SDK v4.")


def test_a_named_binary_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(select_backend("git"), BinaryHelm)  # any executable on PATH will do


def test_environment_variable_selects_a_binary(
    repo_copy: Callable[[str], Path], tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from meshgen.cli import cli

    repo = repo_copy("argocd")
    missing = str(tmp_path / "helm")
    result = CliRunner().invoke(
        cli, ["-C", str(repo), "render", "--env", "staging"], env={"MESHGEN_HELM": missing}
    )
    assert result.exit_code == 2, result.output
    assert "helm binary not found" in result.stderr
    assert missing in result.stderr


def test_missing_binary_is_a_clear_error(tmp_path: Path) -> None:
    from meshgen.errors import ToolError

    with pytest.raises(ToolError, match="helm binary not found"):
        select_backend(str(tmp_path / "helm"))


def test_sdk_renders_each_template_once_without_notes(repo_copy: Callable[[str], Path]) -> None:
    repo = load_repo(repo_copy("argocd"))
    rendering = render_app(repo, repo.environment("staging"), repo.app(), EmbeddedHelm())
    sources = {m.source for m in rendering.manifests}
    assert "charts/first-app/templates/deployment.yaml" in sources
    assert not any(s.endswith(".txt") or "/_" in s for s in sources)
    # The GitOps layer owns the namespace; the release starts with its NetworkPolicies.
    assert "Namespace" not in {m.kind for m in rendering.manifests}


@pytest.mark.skipif(
    shutil.which("helm") is None,
    reason="no helm binary on PATH: comparing it with the SDK needs one (install helm to run)",
)
@pytest.mark.parametrize("environment", ["staging", "production"])
def test_binary_and_sdk_render_the_same_manifests(
    repo_copy: Callable[[str], Path], environment: str
) -> None:
    repo = load_repo(repo_copy("argocd"))
    helm = shutil.which("helm")
    assert helm is not None
    sdk = render_app(repo, repo.environment(environment), repo.app(), EmbeddedHelm())
    binary = render_app(repo, repo.environment(environment), repo.app(), BinaryHelm(Path(helm)))
    assert binary.to_yaml() == sdk.to_yaml()


@pytest.mark.skipif(
    shutil.which("helm") is None,
    reason="no helm binary on PATH: comparing it with the SDK needs one (install helm to run)",
)
def test_validate_reports_the_same_with_either_backend(
    repo_copy: Callable[[str], Path], invoke: Invoke
) -> None:
    repo = repo_copy("flux")
    overlay = repo / "environments" / "staging" / "first-app.yaml"
    overlay.write_text(
        overlay.read_text().replace("replicas: 1", "replicas: 1\n    colour: blue", 1)
    )
    helm = shutil.which("helm")
    assert helm is not None
    sdk = invoke(["-C", str(repo), "validate", "--format", "json"], expect=1).stdout
    binary = invoke(
        ["-C", str(repo), "validate", "--format", "json", "--helm-binary", helm], expect=1
    )
    assert json.loads(binary.stdout)["findings"] == json.loads(sdk)["findings"]
    assert "colour" in sdk


def test_a_binary_that_is_not_helm_is_refused(
    repo_copy: Callable[[str], Path], invoke: Invoke
) -> None:
    repo = repo_copy("argocd")
    true = shutil.which("true")
    assert true is not None
    result = invoke(
        ["-C", str(repo), "render", "--env", "staging", "--helm-binary", true], expect=2
    )
    assert "printed no manifests" in result.stderr
    assert result.stdout == ""
    doctor = invoke(["doctor", "--helm-binary", true], expect=2)
    assert "not a helm version" in doctor.stdout

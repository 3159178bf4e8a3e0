"""What `meshgen diff` shows of the platform: chart versions, merged values, GitOps
objects, the rendered upstream charts when their repository answers, changed files."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import SHARED_SCHEMAS, Invoke
from helpers import git, serve_folder
from meshgen.helm import select_backend
from meshgen.platform.charts import ChartRepositories
from meshgen.traffic.platform_diff import diff_platform

UPSTREAM_CHARTS = SHARED_SCHEMAS.parent / "upstream-charts"
ISTIO_CHARTS = "https://istio-release.storage.googleapis.com/charts"
JETSTACK = "https://charts.jetstack.io"


def _istiod_release_edit(root: Path, version: str) -> Path:
    # The production istiod release: its own Application (Argo CD) in any layout.
    for path in sorted((root / "gitops").rglob("*.yaml")):
        text = path.read_text()
        marker = "name: production-istiod\n"
        if marker in text:
            head, _, tail = text.partition(marker)
            document, sep, rest = tail.partition("\n---")
            path.write_text(
                head
                + marker
                + document.replace("targetRevision: 1.30.3", f"targetRevision: {version}")
                + sep
                + rest
            )
            return path
    raise AssertionError("no production-istiod Application")


@pytest.fixture
def trees(tmp_path: Path, pristine_repos: dict[str, Path]) -> Callable[[str], tuple[Path, Path]]:
    def make(engine: str) -> tuple[Path, Path]:
        base, head = tmp_path / "base", tmp_path / "head"
        shutil.copytree(pristine_repos[engine], base)
        shutil.copytree(pristine_repos[engine], head)
        return base, head

    return make


def test_an_istio_upgrade_in_production_is_a_version_change_there(
    trees: Callable[[str], tuple[Path, Path]],
) -> None:
    base, head = trees("argocd")
    changed = _istiod_release_edit(head, "1.31.0")
    result = diff_platform(base, head, select_backend(None))
    assert result.versions == ("istiod 1.30.3 → 1.31.0 (production)",)
    relative = changed.relative_to(head).as_posix()
    assert f"--- a/{relative}: Application/argocd/production-istiod\n" in result.objects
    assert "-    targetRevision: 1.30.3\n" in result.objects
    assert relative in result.changed_files


def test_a_mesh_config_change_is_a_values_diff_in_every_environment(
    trees: Callable[[str], tuple[Path, Path]],
) -> None:
    base, head = trees("flux")
    values = head / "platform/istio/istiod.values.yaml"
    values.write_text(values.read_text().replace("accessLogFile: /dev/stdout", "accessLogFile: ''"))
    result = diff_platform(base, head, select_backend(None))
    assert result.versions == ()
    for environment in ("staging", "production"):
        assert f"+++ b/{environment}/istiod (values)\n" in result.values
    assert "-  accessLogFile: /dev/stdout\n" in result.values
    assert "+  accessLogFile: ''\n" in result.values
    only = diff_platform(base, head, select_backend(None), environments=["staging"])
    assert "+++ b/production/istiod (values)\n" not in only.values


def test_a_changed_file_that_is_no_object_is_still_listed(
    trees: Callable[[str], tuple[Path, Path]],
) -> None:
    base, head = trees("flux")
    kustomization = head / "platform/cert-manager/kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "# reviewed\n")
    result = diff_platform(base, head, select_backend(None))
    assert not result.shown
    assert result.changed_files == ("platform/cert-manager/kustomization.yaml",)


@pytest.fixture
def chart_repository() -> Iterator[str]:
    if not UPSTREAM_CHARTS.is_dir():
        pytest.skip(f"{UPSTREAM_CHARTS} is absent: no chart repository to serve")
    with serve_folder(UPSTREAM_CHARTS) as url:
        yield url


def _serve_from(root: Path, url: str) -> None:
    for path in (root / "gitops").rglob("*.yaml"):
        text = path.read_text()
        path.write_text(text.replace(ISTIO_CHARTS, url).replace(JETSTACK, url))


def test_the_platform_is_rendered_when_its_chart_repository_answers(
    trees: Callable[[str], tuple[Path, Path]], chart_repository: str, tmp_path: Path
) -> None:
    base, head = trees("argocd")
    for root in (base, head):
        _serve_from(root, chart_repository)
    values = head / "platform/istio/istiod.values.yaml"
    values.write_text(values.read_text().replace("accessLogFile: /dev/stdout", "accessLogFile: ''"))
    cache = tmp_path / "charts"
    result = diff_platform(base, head, select_backend(None), charts=ChartRepositories(cache))
    assert result.notes == ()
    rendered = "".join(result.rendered)
    assert "+++ b/staging/istiod/istiod/templates/configmap.yaml\n" in rendered
    assert "-    accessLogFile: /dev/stdout\n" in rendered
    # Only the release whose values changed is rendered, and its chart is kept by digest.
    assert "/istio-gateway/" not in rendered
    assert [p.name for p in cache.glob("*.tgz")] == [
        "sha256-e58501eddc3c2c32ccfc341669440c89906cda5c0b5b1af2c8bcb04b644e9968.tgz"
    ]


def test_an_unreachable_chart_repository_is_a_note_not_a_failure(
    trees: Callable[[str], tuple[Path, Path]], tmp_path: Path
) -> None:
    base, head = trees("argocd")
    for root in (base, head):
        _serve_from(root, "http://127.0.0.1:9")
    _istiod_release_edit(head, "1.31.0")
    result = diff_platform(
        base, head, select_backend(None), charts=ChartRepositories(tmp_path / "c", timeout=2)
    )
    assert result.versions == ("istiod 1.30.3 → 1.31.0 (production)",)
    assert len(result.notes) == 1
    assert result.notes[0].startswith(
        "production/istiod: not rendered: http://127.0.0.1:9/index.yaml"
    )


def test_meshgen_diff_shows_an_istio_upgrade_in_production(tmp_path: Path, invoke: Invoke) -> None:
    repo = tmp_path / "acme"
    invoke(["new", str(repo), "--no-input"])
    git(repo, "switch", "-q", "-c", "upgrade")
    _istiod_release_edit(repo, "1.31.0")
    git(repo, "commit", "-qam", "istiod 1.31.0 in production")
    text = invoke(["-C", str(repo), "diff", "--base", "main", "--offline"]).stdout
    platform = text.split("Platform:\n", 1)[1].split("\n\n", 1)[0]
    assert "  istiod 1.30.3 → 1.31.0 (production)" in platform.splitlines()
    assert "GitOps and platform objects:\n" in text
    markdown = invoke(
        ["-C", str(repo), "diff", "--base", "main", "--offline", "--format", "markdown"]
    )
    assert "- istiod 1.30.3 → 1.31.0 (production)\n" in markdown.stdout
    assert "No change." not in markdown.stdout


def test_meshgen_diff_never_says_no_change_when_a_deployed_file_changed(
    tmp_path: Path, invoke: Invoke
) -> None:
    repo = tmp_path / "acme"
    invoke(["new", str(repo), "--no-input"])
    git(repo, "switch", "-q", "-c", "note")
    kustomization = repo / "platform/cert-manager/kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "# reviewed\n")
    git(repo, "commit", "-qam", "a note")
    text = invoke(["-C", str(repo), "diff", "--base", "main", "--offline"]).stdout
    assert "Changed files:\n  platform/cert-manager/kustomization.yaml\n" in text
    markdown = invoke(
        ["-C", str(repo), "diff", "--base", "main", "--offline", "--format", "markdown"]
    )
    assert "No change." not in markdown.stdout
    assert "- `platform/cert-manager/kustomization.yaml`" in markdown.stdout


def test_a_side_without_a_readable_manifest_has_no_pins(tmp_path: Path, invoke: Invoke) -> None:
    """A base commit from before meshgen, or one whose meshgen.yaml is broken, has no
    version to move from: the diff names no move rather than stopping."""
    from meshgen.pins import pin_changes, pin_versions

    head = tmp_path / "head"
    invoke(["new", str(head), "--no-input", "--no-git"])
    before_meshgen = tmp_path / "before"
    before_meshgen.mkdir()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "meshgen.yaml").write_text("name: [unclosed\n")
    assert pin_versions(head)
    for base in (before_meshgen, broken):
        assert pin_versions(base) == {}
        assert pin_changes(base, head) == []

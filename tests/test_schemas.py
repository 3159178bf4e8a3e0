"""`meshgen schemas import` and `--schema-location`: CRD schemas as kubeconform finds them."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import Invoke
from helpers import serve_folder

MG304_CASE = Path(__file__).resolve().parent / "rules" / "MG304"


def _crd_files(shared_schemas: Path) -> list[Path]:
    # The Gateway API CRDs in crd-yaml/ have no converted counterpart in crds/ (the
    # upstream README leaves that conversion to `meshgen schemas import`).
    return sorted(
        path
        for path in (shared_schemas / "crd-yaml").rglob("*.yaml")
        if path.parent.name != "kubernetes-sigs+gateway-api"
    )


def test_import_matches_the_upstream_conversion(
    shared_schemas: Path, invoke: Invoke, tmp_path: Path
) -> None:
    out = tmp_path / "schemas"
    args = ["schemas", "import", "--output", str(out)]
    invoke([*args, *map(str, _crd_files(shared_schemas))])
    for tree in ("crds", "crds-strict"):
        expected = sorted(
            p.relative_to(shared_schemas / tree) for p in (shared_schemas / tree).rglob("*.json")
        )
        produced = sorted(p.relative_to(out / tree) for p in (out / tree).rglob("*.json"))
        assert produced == expected, tree
        for relative in expected:
            want = (shared_schemas / tree / relative).read_bytes()
            assert (out / tree / relative).read_bytes() == want, f"{tree}/{relative} differs"


def test_import_from_stdin_into_the_repo_schema_folder(
    shared_schemas: Path, repo_copy: Callable[[str], Path], invoke: Invoke
) -> None:
    repo = repo_copy("argocd")
    crds = (
        shared_schemas
        / "crd-yaml"
        / "cert-manager+cert-manager"
        / "cert-manager.io_certificates.yaml"
    )
    result = invoke(["-C", str(repo), "schemas", "import", "-"], input=crds.read_text())
    assert "1 schemas imported" in result.stdout
    strict = json.loads(
        (repo / "schemas/crds-strict/cert-manager.io/certificate_v1.json").read_text()
    )
    assert strict["properties"]["spec"]["additionalProperties"] is False
    plain = json.loads((repo / "schemas/crds/cert-manager.io/certificate_v1.json").read_text())
    assert "additionalProperties" not in plain["properties"]["spec"]


def test_import_without_a_crd_is_a_usage_error(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke(
        ["schemas", "import", "--output", str(tmp_path), "-"],
        input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
        expect=2,
    )
    assert "no CustomResourceDefinition" in result.stderr


@pytest.fixture(scope="session")
def imported_crds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The upstream CRDs imported once per session (they are megabytes of YAML)."""
    from conftest import SHARED_SCHEMAS
    from meshgen.validate.schemas import crd_import

    if not SHARED_SCHEMAS.is_dir():
        pytest.skip(f"{SHARED_SCHEMAS} is absent: upstream schema conformance not checked here")
    out = tmp_path_factory.mktemp("imported") / "schemas"
    for path in _crd_files(SHARED_SCHEMAS):
        crd_import.write(crd_import.convert_text(path.read_text(), str(path)), out)
    return out


@pytest.fixture
def repo_with_real_crds(
    imported_crds: Path, repo_copy: Callable[[str], Path]
) -> Callable[[str], Path]:
    def make(engine: str) -> Path:
        repo = repo_copy(engine)
        shutil.copytree(imported_crds, repo / "schemas")
        return repo

    return make


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_generated_repo_passes_the_real_crd_schemas(
    repo_with_real_crds: Callable[[str], Path], invoke: Invoke, engine: str
) -> None:
    repo = repo_with_real_crds(engine)
    result = invoke(["-C", str(repo), "validate", "--format", "json"])
    findings = json.loads(result.stdout)["findings"]
    # Everything is checked: the CRDs by the imported schemas, eksctl's ClusterConfig by
    # the schema meshgen ships.
    assert findings == []


def test_unknown_field_in_a_virtualservice_fails_the_real_schema(
    repo_with_real_crds: Callable[[str], Path], invoke: Invoke
) -> None:
    repo = repo_with_real_crds("argocd")
    template = repo / "charts/first-app/templates/virtualservice.yaml"
    template.write_text(
        template.read_text().replace("  http:\n", "  http:\n    - timeoutz: 5s\n", 1)
    )
    result = invoke(
        ["-C", str(repo), "validate", "--env", "staging", "--select", "MG304"], expect=1
    )
    assert (
        "charts/first-app/templates/virtualservice.yaml:3:1: MG304 error: "
        "[staging] VirtualService/staging/first-app: spec.http.0" in result.stdout
    )
    assert "'timeoutz' was unexpected" in result.stdout
    assert "schemas/crds-strict/networking.istio.io/virtualservice_v1.json" in result.stdout


def test_url_template_location_with_file_scheme(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(MG304_CASE / "fail")
    template = (
        MG304_CASE / "fail" / "schemas"
    ).as_uri() + "/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"
    args = [
        "validate",
        "--files",
        "manifests.yaml",
        "--schema-location",
        template,
        "--schema-cache",
        str(tmp_path),
    ]
    assert "'hots' was unexpected" in invoke(args, expect=1).stdout


@pytest.fixture
def schema_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server over a copy of the MG304 case's schemas (removable by the test)."""
    served = tmp_path / "served"
    shutil.copytree(MG304_CASE / "fail" / "schemas", served)
    with serve_folder(served) as url:
        yield url, served


def test_url_location_is_cached_for_offline_runs(
    schema_server: tuple[str, Path], invoke: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    base, served = schema_server
    monkeypatch.chdir(MG304_CASE / "fail")
    cache = tmp_path / "cache"
    args = [
        "validate",
        "--files",
        "manifests.yaml",
        "--schema-location",
        base,
        "--schema-cache",
        str(cache),
    ]
    assert "'hots' was unexpected" in invoke(args, expect=1).stdout
    shutil.rmtree(served)
    assert "'hots' was unexpected" in invoke(args, expect=1).stdout


# A custom resource of a kind meshgen ships no schema for.
WIDGET = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: 3\n"


def test_missing_schema_at_a_url_is_skipped_not_passed(
    schema_server: tuple[str, Path], invoke: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    base, _ = schema_server
    monkeypatch.chdir(tmp_path)
    (tmp_path / "manifests.yaml").write_text(WIDGET)
    args = [
        "validate",
        "--files",
        "manifests.yaml",
        "--select",
        "MG3",
        "--schema-location",
        base + "/nothing-here",
        "--schema-cache",
        str(tmp_path),
    ]
    result = invoke(args)
    assert "MG303 info: Widget (example.com/v1): no schema known" in result.stdout
    assert "MG305" not in result.stdout


def test_unreachable_schema_url_is_a_warning(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "manifests.yaml").write_text(WIDGET)
    args = [
        "validate",
        "--files",
        "manifests.yaml",
        "--schema-location",
        "http://127.0.0.1:9/{{.Group}}/{{.ResourceKind}}.json",
        "--schema-cache",
        str(tmp_path / "cache"),
        "--strict",
    ]
    result = invoke(args, expect=1)
    assert "MG305 warning: schema location http://127.0.0.1:9/" in result.stdout
    assert "MG303 info: Widget (example.com/v1)" in result.stdout


def test_unreachable_schema_url_is_one_warning_for_all_kinds(
    repo_copy: Callable[[str], Path], invoke: Invoke, tmp_path: Path
) -> None:
    repo = repo_copy("argocd")
    location = "http://127.0.0.1:9/{{.Group}}/{{.ResourceKind}}.json"
    args = ["-C", str(repo), "validate", "--select", "MG3", "--schema-location", location]
    result = invoke([*args, "--schema-cache", str(tmp_path)])
    warnings = [line for line in result.stdout.splitlines() if " MG305 " in line]
    assert len(warnings) == 1, result.stdout
    # The location comes from the command line: the finding points at it, not at meshgen.yaml.
    assert warnings[0].startswith(f"{location}:1:1: MG305 warning: schema location {location}: ")
    assert "not tried for other kinds" in warnings[0]
    # The schemas meshgen ships still check every kind the location would have covered.
    assert " MG303 " not in result.stdout
    assert " MG304 " not in result.stdout


@pytest.mark.parametrize(
    ("make_location", "problem"),
    [
        (lambda tmp: str(tmp / "nonexistent-dir"), "folder does not exist"),
        (lambda tmp: str(tmp / "a-file"), "not a folder"),
        (
            lambda tmp: (
                str(tmp / "gone") + "/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"
            ),
            "folder {tmp}/gone does not exist",
        ),
        (
            lambda tmp: (tmp / "gone").as_uri() + "/{{.Group}}/{{.ResourceKind}}.json",
            "folder {tmp}/gone does not exist",
        ),
    ],
    ids=["folder", "file", "template", "file-url"],
)
def test_unusable_schema_folder_is_one_warning_naming_it(
    repo_copy: Callable[[str], Path],
    invoke: Invoke,
    tmp_path: Path,
    make_location: Callable[[Path], str],
    problem: str,
) -> None:
    repo = repo_copy("argocd")
    (tmp_path / "a-file").write_text("{}")
    location = make_location(tmp_path)
    result = invoke(
        ["-C", str(repo), "validate", "--select", "MG305", "--schema-location", location]
    )
    assert result.stdout.splitlines()[:-1] == [
        f"{location}:1:1: MG305 warning: schema location {location}: "
        + problem.format(tmp=tmp_path.as_posix())
    ]
    assert "0 errors, 1 warning" in result.stdout
    invoke(
        [
            "-C",
            str(repo),
            "validate",
            "--select",
            "MG305",
            "--schema-location",
            location,
            "--strict",
        ],
        expect=1,
    )


def test_unusable_schema_folder_without_custom_resources_still_warns(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    args = ["validate", "--files", "cm.yaml", "--schema-location", "/nonexistent-dir"]
    result = invoke(args)
    assert (
        "/nonexistent-dir:1:1: MG305 warning: schema location /nonexistent-dir: "
        "folder does not exist"
    ) in result.stdout

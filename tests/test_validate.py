"""`meshgen validate` on generated repos, good and damaged: the report, its formats and
options. Each rule's own cases are folders under tests/rules/<RULE>/."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Invoke
from helpers import replace


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_generated_repo_validates(
    repo_copy: Callable[[str], Path], invoke: Invoke, engine: str
) -> None:
    repo = repo_copy(engine)
    result = invoke(["-C", str(repo), "validate"])
    assert "0 errors, 0 warnings" in result.stdout.splitlines()[-1]
    assert "environments: staging, production" in result.stdout


def test_json_report(repo_copy: Callable[[str], Path], invoke: Invoke) -> None:
    repo = repo_copy("argocd")
    replace(repo / "environments" / "staging" / "first-app.yaml", "v1: 100", "v1: 90")
    payload = json.loads(invoke(["-C", str(repo), "validate", "--format", "json"], expect=1).stdout)
    assert payload["schemaVersion"] == 2
    # The chart refuses such weights too (so that a GitOps engine never applies them),
    # but the one finding is meshgen's, at the line to fix; Helm's render failure for
    # the same cause would only repeat it.
    errors = {f["rule"]: f for f in payload["findings"] if f["severity"] == "error"}
    assert payload["summary"]["error"] == 1
    assert sorted(errors) == ["MG110"]
    assert errors["MG110"]["path"] == "environments/staging/first-app.yaml"
    assert "weights sum to 90, not 100" in errors["MG110"]["message"]


def test_select_and_ignore(repo_copy: Callable[[str], Path], invoke: Invoke) -> None:
    repo = repo_copy("argocd")
    replace(repo / "environments" / "staging" / "first-app.yaml", "v1: 100", "v1: 90")
    invoke(["-C", str(repo), "validate", "--ignore", "MG110", "--ignore", "MG201"])
    result = invoke(["-C", str(repo), "validate", "--select", "MG1"], expect=1)
    assert "MG303" not in result.stdout


def test_strict_fails_on_warnings(repo_copy: Callable[[str], Path], invoke: Invoke) -> None:
    repo = repo_copy("argocd")
    (repo / "environments" / "orphan").mkdir()
    result = invoke(["-C", str(repo), "validate"])
    assert "MG104 warning" in result.stdout
    invoke(["-C", str(repo), "validate", "--strict"], expect=1)


def test_validate_one_environment(repo_copy: Callable[[str], Path], invoke: Invoke) -> None:
    repo = repo_copy("argocd")
    replace(repo / "environments" / "production" / "first-app.yaml", "v1: 100", "v1: 90")
    result = invoke(["-C", str(repo), "validate", "--env", "staging"])
    assert "environments: staging)" in result.stdout


def test_an_environment_named_twice_is_validated_once(
    repo_copy: Callable[[str], Path], invoke: Invoke
) -> None:
    repo = repo_copy("argocd")
    result = invoke(["-C", str(repo), "validate", "--env", "staging", "--env", "staging"])
    assert "MG112" not in result.stdout
    assert "environments: staging)" in result.stdout


@pytest.mark.parametrize("version", ["9.99", "1.28", "1.38", "1.3"])
def test_kubernetes_versions_outside_the_supported_range_are_refused(
    repo_copy: Callable[[str], Path], invoke: Invoke, version: str
) -> None:
    repo = repo_copy("argocd")
    result = invoke(["-C", str(repo), "validate", "--kubernetes-version", version], expect=2)
    assert "--kubernetes-version" in result.stderr
    assert "1.29" in result.stderr


def test_validate_accepts_a_supported_kubernetes_version(
    repo_copy: Callable[[str], Path], invoke: Invoke
) -> None:
    repo = repo_copy("argocd")
    invoke(["-C", str(repo), "validate", "--env", "staging", "--kubernetes-version", "1.29"])


def test_rules_lists_every_rule_with_a_fix(invoke: Invoke) -> None:
    from meshgen.validate.registry import all_rules

    output = invoke(["rules"]).stdout
    for rule in all_rules():
        assert f"{rule.id}  {rule.name}" in output
        assert rule.fix, f"{rule.id} has no fix in its docstring"


def test_rules_speak_of_environment_files_and_name_the_retired_id(invoke: Invoke) -> None:
    output = invoke(["rules"]).stdout
    listed = [line.split("  ")[1] for line in output.splitlines() if line.startswith("MG")]
    assert not [name for name in listed if "overlay" in name or "manifest" in name]
    assert "MG101  environment-file-unreadable  [error]" in output
    assert "MG502  retired: its checks are MG412's; the ID is never reused" in output


@pytest.mark.parametrize("former", ["MG502", "acme-solver-class-not-served", "overlay-schema"])
def test_a_retired_id_or_former_name_still_selects_its_checks(
    repo_copy: Callable[[str], Path], invoke: Invoke, former: str
) -> None:
    """A pre-commit hook written with `--ignore MG502` keeps working after the merge."""
    repo = repo_copy("argocd")
    result = invoke(["-C", str(repo), "validate", "--select", former, "--format", "json"])
    import json

    ran = {rule["id"] for rule in json.loads(result.stdout)["rules"]}
    assert ran == {"MG412"} if former != "overlay-schema" else ran == {"MG102"}


def test_broken_static_file_is_reported(repo_copy: Callable[[str], Path], invoke: Invoke) -> None:
    repo = repo_copy("argocd")
    (repo / "platform" / "istio" / "gateway.values.yaml").write_text("name: [oops\n")
    result = invoke(["-C", str(repo), "validate"], expect=1)
    assert "platform/istio/gateway.values.yaml:" in result.stdout
    assert "MG003 error: invalid YAML" in result.stdout


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_mesh_analyzers_find_nothing_in_generated_repos(
    repo_copy: Callable[[str], Path], invoke: Invoke, engine: str
) -> None:
    result = invoke(["-C", str(repo_copy(engine)), "validate", "--select", "MG4", "--strict"])
    assert result.stdout.startswith("0 errors, 0 warnings, 0 notes")


def test_analyzers_read_the_gateway_chart_values(
    repo_copy: Callable[[str], Path], invoke: Invoke
) -> None:
    repo = repo_copy("argocd")
    replace(
        repo / "platform" / "istio" / "gateway.values.yaml", "  istio: gateway", "  istio: edge"
    )
    result = invoke(["-C", str(repo), "validate", "--select", "MG4"], expect=1)
    assert (
        "charts/first-app/templates/gateway.yaml:2:1: MG405 error: [staging] "
        "Gateway/istio-ingress/first-app-staging: selector istio=gateway matches no gateway "
        "workload (installed gateways: istio=edge)" in result.stdout
    )
    # The meshConfig that names the missing gateway is reported once, where it is set
    # (MG501), not again at every ACME issuer (MG412).
    assert "MG412" not in result.stdout
    result = invoke(["-C", str(repo), "validate", "--select", "MG501"], expect=1)
    assert "meshConfig.ingressSelector is 'gateway'" in result.stdout


def test_plain_manifests_from_stdin(invoke: Invoke) -> None:
    manifests = (Path(__file__).parent / "rules" / "MG401" / "fail" / "manifests.yaml").read_text()
    result = invoke(["validate", "--files", "-", "--select", "MG4"], input=manifests, expect=1)
    assert result.stdout.splitlines() == [
        "<stdin>:73:1: MG401 error: VirtualService/shop/web: routes to subset 'v2' of "
        "web.shop.svc.cluster.local (http[0].route[1]), which its DestinationRule does not define "
        "(subsets: v1)",
        "1 error, 0 warnings, 0 notes in - (6 objects)",
    ]


def test_plain_manifest_folder_and_unreadable_file(invoke: Invoke, tmp_path: Path) -> None:
    folder = tmp_path / "manifests"
    folder.mkdir()
    (folder / "ok.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
    (folder / "broken.yml").write_text("kind: [oops\n")
    result = invoke(["validate", "--files", str(folder)], expect=1)
    assert "broken.yml:2:1: MG003 error: invalid YAML" in result.stdout
    assert "(1 object)" in result.stdout


def test_progress_only_on_a_terminal(repo_copy: Callable[[str], Path], invoke: Invoke) -> None:
    import io

    from meshgen.cli.validate import Progress
    from meshgen.helm import select_backend
    from meshgen.validate.engine import validate_repo
    from meshgen.validate.options import ValidateOptions

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    repo = repo_copy("argocd")
    terminal = Terminal()
    progress = Progress(terminal)
    validate_repo(repo, select_backend(None), ValidateOptions(progress=progress))
    progress.clear()
    shown = terminal.getvalue()
    assert "meshgen: rendering staging (1/2)" in shown
    assert "meshgen: rendering production (2/2)" in shown
    assert shown.endswith("\r")
    assert not Progress(io.StringIO()).enabled
    assert invoke(["-C", str(repo), "validate"]).stderr == ""


@pytest.mark.parametrize(
    ("api_version", "core"),
    [
        ("v1", True),
        ("apps/v1", True),
        ("rbac.authorization.k8s.io/v1", True),
        ("networking.k8s.io/v1", True),
        ("gateway.networking.k8s.io/v1", False),
        ("kustomize.config.k8s.io/v1beta1", False),
        ("networking.istio.io/v1", False),
    ],
)
def test_built_in_api_groups_are_told_from_custom_ones(api_version: str, core: bool) -> None:
    from meshgen.validate.schemas.kube import is_core_api

    assert is_core_api(api_version) is core


def test_files_that_do_not_exist_are_a_usage_error(tmp_path: Path, invoke: Invoke) -> None:
    result = invoke(["validate", "--files", str(tmp_path / "missing.yaml")], expect=2)
    assert result.stderr == f"meshgen: error: {tmp_path / 'missing.yaml'}: no such file or folder\n"


def test_a_fractional_weight_is_reported_once(
    repo_copy: Callable[[str], Path], invoke: Invoke
) -> None:
    repo = repo_copy("argocd")
    replace(repo / "environments" / "staging" / "first-app.yaml", "v1: 100", "v1: 99.5")
    payload = json.loads(invoke(["-C", str(repo), "validate", "--format", "json"], expect=1).stdout)
    errors = [(f["rule"], f["message"]) for f in payload["findings"] if f["severity"] == "error"]
    assert errors == [("MG102", "traffic.v1: '99.5' is not a whole number.")]


def test_values_are_read_as_helm_reads_them(
    repo_copy: Callable[[str], Path], invoke: Invoke
) -> None:
    """YAML 1.1, like Helm in Argo CD and Flux: unquoted `on` and `no` are booleans."""
    repo = repo_copy("argocd")
    overlay = repo / "environments" / "staging" / "first-app.yaml"
    overlay.write_text(overlay.read_text() + "routing:\n  versionHeader: on\n")
    result = invoke(["-C", str(repo), "validate", "--env", "staging"], expect=1)
    assert "versionHeader" in result.stdout
    overlay.write_text(overlay.read_text().replace("versionHeader: on", "versionHeader: 'on'"))
    invoke(["-C", str(repo), "validate", "--env", "staging"])

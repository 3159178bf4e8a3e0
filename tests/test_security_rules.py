"""The restricted Pod Security Standard rules (MG6xx) and the credential check (MG620)."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import Invoke

COMPLIANT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "worker", "namespace": "staging"},
    "spec": {
        "selector": {"matchLabels": {"app": "worker"}},
        "template": {
            "metadata": {"labels": {"app": "worker"}},
            "spec": {
                "securityContext": {
                    "runAsNonRoot": True,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "volumes": [{"name": "tmp", "emptyDir": {}}],
                "containers": [
                    {
                        "name": "main",
                        "image": "example/worker:1",
                        "ports": [{"containerPort": 8080}],
                        "securityContext": {
                            "allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
                        },
                    }
                ],
            },
        },
    },
}


def _pod(manifest: dict[str, Any]) -> dict[str, Any]:
    pod: dict[str, Any] = manifest["spec"]["template"]["spec"]
    return pod


def _container(manifest: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = _pod(manifest)["containers"][0]
    return container


Mutation = Callable[[dict[str, Any]], None]

VIOLATIONS: list[tuple[str, str, Mutation]] = [
    ("MG601", "hostNetwork: true", lambda m: _pod(m).update(hostNetwork=True)),
    ("MG601", "hostPID: true", lambda m: _pod(m).update(hostPID=True)),
    (
        "MG602",
        "privileged: true",
        lambda m: _container(m)["securityContext"].update(privileged=True),
    ),
    (
        "MG603",
        "drop must include ALL",
        lambda m: _container(m)["securityContext"]["capabilities"].update(drop=[]),
    ),
    (
        "MG603",
        "SYS_ADMIN may not be added",
        lambda m: _container(m)["securityContext"]["capabilities"].update(add=["SYS_ADMIN"]),
    ),
    (
        "MG604",
        "type hostPath is not allowed",
        lambda m: _pod(m).update(volumes=[{"name": "h", "hostPath": {"path": "/"}}]),
    ),
    (
        "MG605",
        "hostPort 80",
        lambda m: _container(m).update(ports=[{"containerPort": 80, "hostPort": 80}]),
    ),
    (
        "MG606",
        "allowPrivilegeEscalation: false",
        lambda m: _container(m)["securityContext"].pop("allowPrivilegeEscalation"),
    ),
    ("MG607", "set runAsNonRoot: true", lambda m: _pod(m)["securityContext"].pop("runAsNonRoot")),
    ("MG607", "runAsUser: 0", lambda m: _container(m)["securityContext"].update(runAsUser=0)),
    (
        "MG608",
        "seccompProfile.type is unset",
        lambda m: _pod(m)["securityContext"].pop("seccompProfile"),
    ),
    (
        "MG608",
        "seccompProfile.type is Unconfined",
        lambda m: _container(m)["securityContext"].update(seccompProfile={"type": "Unconfined"}),
    ),
    (
        "MG609",
        "appArmorProfile Unconfined",
        lambda m: _pod(m)["securityContext"].update(appArmorProfile={"type": "Unconfined"}),
    ),
    (
        "MG610",
        "seLinuxOptions.user/role",
        lambda m: _pod(m)["securityContext"].update(seLinuxOptions={"user": "root"}),
    ),
    (
        "MG611",
        "procMount Unmasked",
        lambda m: _container(m)["securityContext"].update(procMount="Unmasked"),
    ),
    (
        "MG612",
        "sysctl kernel.msgmax",
        lambda m: _pod(m)["securityContext"].update(
            sysctls=[{"name": "kernel.msgmax", "value": "1"}]
        ),
    ),
]


def _write_workload(repo: Path, manifest: dict[str, Any]) -> Path:
    path = repo / "platform" / "extra" / "workload.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest))  # JSON is YAML
    return path


def _findings(invoke: Invoke, repo: Path, select: str) -> list[dict[str, Any]]:
    result = invoke(
        ["-C", str(repo), "validate", "--select", select, "--format", "json"], expect=None
    )
    findings: list[dict[str, Any]] = json.loads(result.stdout)["findings"]
    return [f for f in findings if f["path"] == "platform/extra/workload.yaml"]


def test_a_compliant_workload_passes_every_pss_rule(
    repo_copy: Callable[[str], Path], invoke: Invoke
) -> None:
    repo = repo_copy("argocd")
    _write_workload(repo, COMPLIANT)
    assert _findings(invoke, repo, "MG6") == []


@pytest.mark.parametrize(
    ("rule_id", "words", "mutate"), VIOLATIONS, ids=[f"{r}-{w}" for r, w, _ in VIOLATIONS]
)
def test_each_violation_is_reported_by_its_rule(
    repo_copy: Callable[[str], Path], invoke: Invoke, rule_id: str, words: str, mutate: Mutation
) -> None:
    repo = repo_copy("argocd")
    manifest = copy.deepcopy(COMPLIANT)
    mutate(manifest)
    _write_workload(repo, manifest)
    findings = _findings(invoke, repo, "MG6")
    assert [f["rule"] for f in findings] == [rule_id], findings
    assert words in findings[0]["message"]
    assert findings[0]["line"] == 1


def test_cronjob_pod_templates_are_checked(
    repo_copy: Callable[[str], Path], invoke: Invoke
) -> None:
    repo = repo_copy("argocd")
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly"},
        "spec": {
            "schedule": "0 3 * * *",
            "jobTemplate": {"spec": {"template": copy.deepcopy(COMPLIANT["spec"]["template"])}},
        },
    }
    cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["hostIPC"] = True
    _write_workload(repo, cronjob)
    assert [f["rule"] for f in _findings(invoke, repo, "MG6")] == ["MG601"]


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("AKIAIOSFODNN7EXAMPLE", "AWS access key"),
        ("ghp_" + "a1B2" * 9, "GitHub token"),
        ("https://deploy:s3cr3t@git.example.com/acme.git", "credentials in a URL"),
    ],
)
def test_credentials_in_an_environment_file_are_findings(
    repo_copy: Callable[[str], Path], invoke: Invoke, value: str, what: str
) -> None:
    repo = repo_copy("argocd")
    overlay = repo / "environments" / "staging" / "first-app.yaml"
    text = overlay.read_text()
    overlay.write_text(text.replace('tag: "1.0"', f'tag: "{value}"', 1))
    result = invoke(["-C", str(repo), "validate", "--select", "MG620"], expect=1)
    line = next(n for n, ln in enumerate(overlay.read_text().splitlines(), 1) if value in ln)
    expected = "MG620 error: versions.v1.image.tag: looks like"
    assert f"environments/staging/first-app.yaml:{line}:1: {expected}" in result.stdout
    assert what in result.stdout


def test_secret_named_keys_with_values_are_findings_but_references_are_not(
    repo_copy: Callable[[str], Path], invoke: Invoke
) -> None:
    repo = repo_copy("argocd")
    issuer = repo / "platform" / "cert-manager" / "cluster-issuers.yaml"
    assert "privateKeySecretRef" in issuer.read_text()
    invoke(["-C", str(repo), "validate", "--select", "MG620"])
    (repo / "platform" / "extra").mkdir()
    (repo / "platform" / "extra" / "db.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db\n"
        "data:\n  password: hunter2hunter2\n"
    )
    result = invoke(["-C", str(repo), "validate", "--select", "MG620"], expect=1)
    assert (
        "platform/extra/db.yaml:6:1: MG620 error: ConfigMap/db: data.password: looks like a value"
        in result.stdout
    )


def test_credentials_in_a_platform_values_file_are_findings(
    repo_copy: Callable[[str], Path], invoke: Invoke
) -> None:
    repo = repo_copy("argocd")
    values = repo / "platform" / "cert-manager" / "values.yaml"
    values.write_text(values.read_text() + "awsKey: AKIAZZZZZZZZZZZZZZZZ\n")
    line = len(values.read_text().splitlines())
    result = invoke(["-C", str(repo), "validate", "--select", "MG620"], expect=1)
    assert (
        f"platform/cert-manager/values.yaml:{line}:1: MG620 error: awsKey: looks like an AWS "
        "access key ID; keep secrets out of git"
    ) in result.stdout
    assert "1 error," in result.stdout


def test_credentials_in_any_document_point_at_their_key(
    repo_copy: Callable[[str], Path], invoke: Invoke
) -> None:
    repo = repo_copy("flux")
    (repo / "platform" / "extra").mkdir()
    (repo / "platform" / "extra" / "mixed.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n---\n"
        "# values for a chart\nexporter:\n  targets:\n    - url: https://scrape.example.com\n"
        "    - url: https://bot:hunter2@scrape.example.com\n"
    )
    result = invoke(["-C", str(repo), "validate", "--select", "MG620"], expect=1)
    assert (
        "platform/extra/mixed.yaml:10:1: MG620 error: exporter.targets.1.url: looks like "
        "credentials in a URL"
    ) in result.stdout


def test_the_generated_repos_hold_no_credentials(
    pristine_repos: dict[str, Path], invoke: Invoke
) -> None:
    for repo in pristine_repos.values():
        invoke(["-C", str(repo), "validate", "--select", "MG620"])


# -- MG613 pss-istio-init-rejected -------------------------------------------------------


def _without_istio_cni(repo: Path) -> None:
    """The mesh as it was before Istio CNI: istiod injects istio-init again."""
    istiod = repo / "platform" / "istio" / "istiod.values.yaml"
    text = istiod.read_text()
    assert "cni:\n" in text
    istiod.write_text(text.replace("  enabled: true\n", "  enabled: false\n", 1))


def _mg613(invoke: Invoke, repo: Path) -> list[str]:
    result = invoke(["-C", str(repo), "validate", "--select", "MG613"], expect=None)
    return [line for line in result.stdout.splitlines() if " MG613 " in line]


def test_restricted_namespaces_pass_when_the_mesh_runs_istio_cni(
    pristine_repos: dict[str, Path], invoke: Invoke
) -> None:
    for repo in pristine_repos.values():
        namespace = repo / "charts" / "first-app" / "templates" / "namespace.yaml"
        assert "pod-security.kubernetes.io/enforce" in namespace.read_text()
        invoke(["-C", str(repo), "validate", "--select", "MG613"])


def test_restricted_namespace_without_istio_cni_rejects_injected_pods(
    repo_copy: Callable[[str], Path], invoke: Invoke
) -> None:
    repo = repo_copy("flux")
    _without_istio_cni(repo)
    template = repo / "charts" / "first-app" / "templates" / "namespace.yaml"
    lines = template.read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if text.startswith("apiVersion:"))
    assert _mg613(invoke, repo) == [
        f"charts/first-app/templates/namespace.yaml:{line}:1: MG613 error: [{env}] "
        f"Namespace/{env}: enforces Pod Security 'restricted' with sidecar injection on, but "
        "cni.enabled is not true in platform/istio/istiod.values.yaml: istio-init needs "
        "NET_ADMIN, so pods will be rejected"
        for env in ("production", "staging")
    ]

    # An environment that enforces `privileged` admits istio-init; `baseline` does not.
    overlays = repo / "environments"
    for env, level in (("staging", "privileged"), ("production", "baseline")):
        overlay = overlays / env / "first-app.yaml"
        overlay.write_text(overlay.read_text() + f"namespace:\n  podSecurityEnforce: {level}\n")
    (finding,) = _mg613(invoke, repo)
    assert "[production] Namespace/production: enforces Pod Security 'baseline'" in finding


def test_static_namespaces_are_judged_by_their_injection_labels(
    repo_copy: Callable[[str], Path], invoke: Invoke
) -> None:
    repo = repo_copy("argocd")
    _without_istio_cni(repo)
    path = repo / "platform" / "extra" / "namespaces.yaml"
    path.parent.mkdir()
    enforce = "pod-security.kubernetes.io/enforce: restricted"
    path.write_text(
        f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: batch\n  labels:\n"
        f"    istio-injection: disabled\n    istio.io/rev: 1-30-3\n    {enforce}\n"
        f"---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n"
        f"    istio.io/rev: 1-30-3\n    {enforce}\n"
    )
    # `istio-injection: disabled` wins over a revision label: only `shop` gets istio-init.
    (finding,) = [line for line in _mg613(invoke, repo) if line.startswith("platform/extra/")]
    assert finding.startswith("platform/extra/namespaces.yaml:10:1: MG613 error: Namespace/shop:")


def test_a_repo_without_platform_files_is_not_judged(
    repo_copy: Callable[[str], Path], invoke: Invoke
) -> None:
    repo = repo_copy("argocd")
    _without_istio_cni(repo)
    assert len(_mg613(invoke, repo)) == 2
    # Plain manifests say nothing about the mesh they are applied to.
    shutil.rmtree(repo / "platform" / "istio")
    shutil.rmtree(repo / "gitops")
    assert _mg613(invoke, repo) == []

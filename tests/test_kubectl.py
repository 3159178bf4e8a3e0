"""`meshgen validate --kubectl`: layer 6, `kubectl apply --dry-run` against an explicit context.

These tests show the argument list, a refused connection, a missing context and a
server that never answers (all exit 2, never a hang), and how kubectl's messages map to
objects. A real API server's verdicts are in test_apiserver.py.
"""

from __future__ import annotations

import shutil
import socket
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import Invoke
from meshgen.kubectl import (
    DryRunOptions,
    build_command,
    field_manager_for,
    is_test_hook,
    parse_rejections,
)
from meshgen.render import Manifest

needs_kubectl = pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="kubectl is not installed: real-kubectl paths unchecked"
)


def _kubeconfig(tmp_path: Path, server: str) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: c\n  cluster: {{server: '{server}'}}\n"
        "contexts:\n- name: staging-admin\n  context: {cluster: c, user: u}\n"
        "users:\n- name: u\n  user: {token: not-a-secret}\n"
        "current-context: staging-admin\n"
    )
    return path


def test_command_names_the_context_and_a_timeout() -> None:
    options = DryRunOptions(context="staging-admin", mode="client", timeout=7, kubeconfig="kc")
    assert build_command(options) == [
        "kubectl",
        "--kubeconfig",
        "kc",
        "--context",
        "staging-admin",
        "--request-timeout=7s",
        "apply",
        "--dry-run=client",
        "--output=name",
        "--filename=-",
    ]


def test_server_dry_run_is_a_server_side_apply_per_release() -> None:
    options = DryRunOptions(context="c", field_manager=field_manager_for("staging/first-app"))
    argv = build_command(options)
    assert argv[argv.index("apply") :] == [
        "apply",
        "--dry-run=server",
        "--server-side",
        "--field-manager=meshgen.staging.first-app",
        "--output=name",
        "--filename=-",
    ]
    assert field_manager_for("") == "meshgen"


@pytest.mark.parametrize(
    ("hook", "left_out"),
    [("test", True), ("pre-install,test-success", True), ("post-install", False), (None, False)],
)
def test_helm_test_hooks_are_left_out(hook: str | None, left_out: bool) -> None:
    annotations = {"helm.sh/hook": hook} if hook else {}
    data = {"kind": "Pod", "metadata": {"name": "p", "annotations": annotations}}
    assert is_test_hook(Manifest("t.yaml", 1, "", data)) is left_out


def test_kind_without_crd_is_tied_to_its_object() -> None:
    message = (
        'error: resource mapping not found for name: "first-app" namespace: "staging" from '
        '"STDIN": no matches for kind "ServiceMonitor" in version "monitoring.coreos.com/v1"'
    )
    service = Manifest("s.yaml", 1, "", {"kind": "Service", "metadata": {"name": "first-app"}})
    monitor = Manifest(
        "m.yaml", 1, "", {"kind": "ServiceMonitor", "metadata": {"name": "first-app"}}
    )
    (rejection,) = parse_rejections(
        message + "\nensure CRDs are installed first\n", [service, monitor]
    )
    assert rejection.manifest is monitor


def test_apply_conflict_goes_to_the_object_the_server_did_not_accept() -> None:
    conflict = 'Apply failed with 1 conflict: conflict with "meshgen.staging.b": .data.owner'
    first = Manifest("a.yaml", 1, "", {"kind": "ConfigMap", "metadata": {"name": "a"}})
    second = Manifest("a.yaml", 9, "", {"kind": "ConfigMap", "metadata": {"name": "b"}})
    stderr = conflict + "\nPlease review the fields above--they currently have other managers.\n"
    (rejection,) = parse_rejections(stderr, [first, second], accepted=["configmap/a"])
    assert rejection.manifest is second
    assert rejection.message == conflict


def test_kubectl_needs_an_explicit_context(
    repo_copy: Callable[[str], Path], invoke: Invoke
) -> None:
    result = invoke(["-C", str(repo_copy("argocd")), "validate", "--kubectl"], expect=2)
    assert "--kubectl needs an explicit --context" in result.stderr


@needs_kubectl
@pytest.mark.parametrize("mode", ["server", "client"])
def test_refused_connection_is_exit_2_with_a_clear_message(
    repo_copy: Callable[[str], Path], invoke: Invoke, tmp_path: Path, mode: str
) -> None:
    kubeconfig = _kubeconfig(tmp_path, "https://127.0.0.1:1")
    args = ["-C", str(repo_copy("argocd")), "validate", "--kubectl", "--dry-run", mode]
    args += ["--context", "staging-admin", "--kubeconfig", str(kubeconfig)]
    result = invoke(args, expect=2)
    assert result.stderr.startswith(
        "meshgen: error: kubectl (exit 1): could not reach the cluster of context "
        "'staging-admin' (staging/first-app):"
    )
    assert "connection refused" in result.stderr
    assert "Traceback" not in result.stderr


@needs_kubectl
def test_unknown_context_is_exit_2(
    repo_copy: Callable[[str], Path], invoke: Invoke, tmp_path: Path
) -> None:
    kubeconfig = _kubeconfig(tmp_path, "https://127.0.0.1:1")
    args = ["-C", str(repo_copy("argocd")), "validate", "--kubectl", "--context", "prod"]
    result = invoke([*args, "--kubeconfig", str(kubeconfig)], expect=2)
    assert "your kubeconfig has no context 'prod'" in result.stderr


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP port that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"https://127.0.0.1:{listener.getsockname()[1]}"


@needs_kubectl
def test_silent_cluster_times_out_instead_of_hanging(
    repo_copy: Callable[[str], Path], invoke: Invoke, tmp_path: Path, silent_server: str
) -> None:
    kubeconfig = _kubeconfig(tmp_path, silent_server)
    args = ["-C", str(repo_copy("argocd")), "validate", "--env", "staging", "--kubectl"]
    args += ["--context", "staging-admin", "--kubeconfig", str(kubeconfig), "--timeout", "1"]
    result = invoke(args, expect=2)
    assert "staging-admin" in result.stderr
    assert "did not answer within 1s" in result.stderr or "deadline exceeded" in result.stderr


REJECTION = (
    'Error from server (BadRequest): error when creating "STDIN": '
    'VirtualService.networking.istio.io "first-app" is invalid: '
    'admission webhook "validation.istio.io" denied the request: total weight 110 != 100'
)


def test_rejection_is_tied_to_the_object_it_names() -> None:
    service = Manifest(
        "a.yaml", 3, "", {"kind": "VirtualService", "metadata": {"name": "first-app"}}
    )
    other = Manifest("a.yaml", 1, "", {"kind": "Service", "metadata": {"name": "first-app"}})
    (rejection,) = parse_rejections(REJECTION + "\n", [other, service])
    assert rejection.manifest is service
    assert rejection.message == REJECTION


@pytest.fixture
def stand_in_kubectl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Puts a `kubectl` on the PATH that reads the objects, then runs the script given."""

    def install(script: str) -> None:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        stand_in = bin_dir / "kubectl"
        stand_in.write_text(f"#!/bin/sh\ncat >/dev/null\n{script}")
        stand_in.chmod(stand_in.stat().st_mode | stat.S_IXUSR)
        monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")

    return install


def _dry_run_staging(repo: Path) -> list[str]:
    return ["-C", str(repo), "validate", "--env", "staging", "--select", "MG901", "--kubectl",
            "--context", "staging-admin"]  # fmt: skip


@pytest.mark.rule_case("MG901", "fail")
def test_rejection_becomes_a_finding_at_the_template(
    repo_copy: Callable[[str], Path], invoke: Invoke, stand_in_kubectl: Callable[[str], None]
) -> None:
    stand_in_kubectl(f"echo '{REJECTION}' >&2\nexit 1\n")
    result = invoke(_dry_run_staging(repo_copy("argocd")), expect=1)
    assert (
        "charts/first-app/templates/virtualservice.yaml:3:1: MG901 error: [staging/first-app] "
        "Error from server (BadRequest)" in result.stdout
    )


@pytest.mark.rule_case("MG901", "pass")
def test_an_accepted_dry_run_is_no_finding(
    repo_copy: Callable[[str], Path], invoke: Invoke, stand_in_kubectl: Callable[[str], None]
) -> None:
    stand_in_kubectl("exit 0\n")
    result = invoke(_dry_run_staging(repo_copy("argocd")))
    assert " MG901 " not in result.stdout
    assert "0 errors, 0 warnings, 0 notes" in result.stdout

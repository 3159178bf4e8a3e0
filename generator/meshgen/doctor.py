"""`meshgen doctor`: can meshgen work on this machine, and can the clusters be bootstrapped?

meshgen itself needs a Helm backend and git. Bootstrapping the clusters a repository
describes needs more: eksctl and the AWS CLI for `cluster/<env>.yaml`, the CLI of the
repository's GitOps engine, and a kubectl within one minor version of the cluster's
Kubernetes (kubectl's supported skew). Each tool is checked on its own; a missing or
broken one is a line of the report, never an error of doctor itself.
"""

from __future__ import annotations

import json
import platform
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from meshgen import __version__
from meshgen.errors import MeshgenError
from meshgen.helm import select_backend
from meshgen.tools import run

_TIMEOUT = 10
_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?")
BOOTSTRAP = "needed to bootstrap the clusters"
_KUBECTL_USE = "needed for --kubectl and the bootstrap"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    required: bool
    bootstrap: bool = False
    # What a failed check is called in the report: most are a missing tool.
    problem: str = "MISSING"


@dataclass(frozen=True)
class RepoFacts:
    """What the checks need to know of the repository doctor runs in."""

    gitops: str
    kubernetes_version: str


def run_checks(helm_binary: str | None = None, repo: RepoFacts | None = None) -> list[Check]:
    checks = [Check("meshgen", True, f"{__version__} on Python {platform.python_version()}", True)]
    try:
        checks.append(Check("helm", True, select_backend(helm_binary).describe(), True))
    except MeshgenError as exc:
        checks.append(Check("helm", False, str(exc), True))
    checks.append(_tool("git", ["git", "--version"], required=True, purpose=""))
    checks.extend(_kubectl_checks(repo))
    checks.append(_tool("eksctl", ["eksctl", "version"], purpose="creates the EKS clusters"))
    checks.append(
        _tool("aws", ["aws", "--version"], purpose="credentials and EKS access for eksctl")
    )
    engines = (repo.gitops,) if repo else ("argocd", "flux")
    for engine in engines:
        checks.append(_engine_check(engine, repo is not None))
    return checks


def can_work(checks: Sequence[Check]) -> bool:
    return all(check.ok for check in checks if check.required)


def can_bootstrap(checks: Sequence[Check]) -> bool:
    return all(check.ok for check in checks if check.bootstrap)


def _tool(
    name: str,
    argv: list[str],
    *,
    purpose: str,
    required: bool = False,
    parse: Callable[[str], str] = lambda text: " ".join(text.split()),
) -> Check:
    suffix = f" ({BOOTSTRAP}: {purpose})" if purpose else ""
    try:
        done = run(argv, timeout=_TIMEOUT)
    except MeshgenError as exc:
        return Check(name, False, f"{exc}{suffix}", required, bootstrap=bool(purpose))
    # `aws --version` of AWS CLI v1 answers on stderr.
    detail = parse(done.stdout.strip() or done.stderr.strip()) or "version unknown"
    return Check(name, True, f"{detail}{suffix}", required, bootstrap=bool(purpose))


def _engine_check(engine: str, from_repo: bool) -> Check:
    purpose = "installs and drives Argo CD" if engine == "argocd" else "bootstraps Flux"
    if not from_repo:
        purpose += ", for Argo CD repositories" if engine == "argocd" else ", for Flux ones"
    argv = (
        ["argocd", "version", "--client", "--short"]
        if engine == "argocd"
        else ["flux", "version", "--client"]
    )
    check = _tool(engine, argv, purpose=purpose)
    # Outside a repository neither engine is known to be needed.
    return check if from_repo else Check(check.name, check.ok, check.detail, False, False)


def _kubectl_checks(repo: RepoFacts | None) -> list[Check]:
    try:
        result = run(["kubectl", "version", "--client", "-o", "json"], timeout=_TIMEOUT)
        client = json.loads(result.stdout).get("clientVersion", {}).get("gitVersion", "unknown")
    except (MeshgenError, ValueError, AttributeError) as exc:
        return [Check("kubectl", False, f"{exc} (needed for --kubectl and the bootstrap)", False)]
    checks = [
        Check("kubectl", True, f"client {client} (needed for --kubectl and the bootstrap)", False)
    ]
    if repo is not None:
        checks.append(skew_check(str(client), repo.kubernetes_version))
    try:
        context = run(["kubectl", "config", "current-context"], timeout=_TIMEOUT).stdout.strip()
        checks.append(Check("kube context", True, context, False))
    except MeshgenError:
        checks.append(
            Check("kube context", False, "none configured (needed only for --kubectl)", False)
        )
    return checks


def skew_check(client: str, cluster: str) -> Check:
    """kubectl is supported within one minor version of the API server, either side."""
    client_match, cluster_match = _VERSION.match(client), _VERSION.match(cluster)
    if client_match is None or cluster_match is None:
        return Check(
            "kubectl skew", False, f"cannot compare kubectl {client} with {cluster}", False, True
        )
    client_minor = (int(client_match[1]), int(client_match[2]))
    cluster_minor = (int(cluster_match[1]), int(cluster_match[2]))
    shown = f"kubectl {client_minor[0]}.{client_minor[1]}, clusters {cluster} (meshgen.yaml)"
    if client_minor[0] == cluster_minor[0] and abs(client_minor[1] - cluster_minor[1]) <= 1:
        return Check("kubectl skew", True, f"{shown}: within one minor version", False, True)
    wanted = ", ".join(f"{cluster_minor[0]}.{cluster_minor[1] + delta}" for delta in (-1, 0, 1))
    return Check(
        "kubectl skew",
        False,
        f"{shown}: kubectl supports one minor version either side; install kubectl {wanted}",
        False,
        True,
        problem="SKEW",
    )

"""`meshgen doctor`: can meshgen work on this machine, and with which tools?"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass

from meshgen import __version__
from meshgen.errors import MeshgenError
from meshgen.helm import select_backend
from meshgen.tools import run


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    required: bool


def run_checks(helm_binary: str | None = None) -> list[Check]:
    checks = [Check("meshgen", True, f"{__version__} on Python {platform.python_version()}", True)]
    try:
        checks.append(Check("helm", True, select_backend(helm_binary).describe(), True))
    except MeshgenError as exc:
        checks.append(Check("helm", False, str(exc), True))
    try:
        version = run(["git", "--version"], timeout=10).stdout.strip()
        checks.append(Check("git", True, version, True))
    except MeshgenError as exc:
        checks.append(Check("git", False, str(exc), True))
    checks.extend(_kubectl_checks())
    return checks


def _kubectl_checks() -> list[Check]:
    try:
        result = run(["kubectl", "version", "--client", "-o", "json"], timeout=10)
        client = json.loads(result.stdout).get("clientVersion", {}).get("gitVersion", "unknown")
        kubectl = Check("kubectl", True, f"client {client} (needed only for --kubectl)", False)
    except (MeshgenError, ValueError) as exc:
        return [Check("kubectl", False, f"{exc} (needed only for --kubectl)", False)]
    try:
        context = run(["kubectl", "config", "current-context"], timeout=10).stdout.strip()
        current = Check("kube context", True, context, False)
    except MeshgenError:
        current = Check(
            "kube context", False, "none configured (needed only for --kubectl dry-runs)", False
        )
    return [kubectl, current]


def can_work(checks: list[Check]) -> bool:
    return all(check.ok for check in checks if check.required)

"""The test API server (tests/apiserver): one real kube-apiserver for the whole session.

`scripts/test-apiserver` builds it from source with Go, starts it on a free loopback
port, installs the platform's CRDs from ../shared and writes a kubeconfig; the session
ends by stopping it. Tests that need it are skipped, saying why, only where Go (or
../shared, the source of the CRDs) is absent; any other failure to start is an error.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "test-apiserver"
BIN = ROOT / "tests" / "apiserver" / "bin"
SHARED = ROOT.parent / "shared"
CONTEXT = "meshgen-test"


@dataclass(frozen=True)
class KubeApi:
    directory: Path
    kubeconfig: Path
    bin_dir: Path
    """Holds the kubectl of the server's own release; put it first on PATH."""

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        argv = [str(self.bin_dir / "kubectl"), "--kubeconfig", str(self.kubeconfig)]
        argv += ["--context", CONTEXT, "--request-timeout=60s", *args]
        result = subprocess.run(
            argv, input=input, capture_output=True, text=True, timeout=120, check=False
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed:\n{result.stderr}")
        return result

    def apply(self, objects: Sequence[Mapping[str, Any]], manager: str) -> None:
        """Apply (for real, server-side) as field manager `manager`."""
        if objects:
            self.kubectl(
                "apply",
                "--server-side",
                f"--field-manager={manager}",
                "--filename=-",
                input=dump(objects),
            )

    def ensure_namespaces(self, names: Sequence[str]) -> None:
        existing = set(self.kubectl("get", "namespaces", "-o", "name").stdout.split())
        for name in sorted(set(names)):
            if f"namespace/{name}" not in existing:
                self.kubectl("create", "namespace", name)


def dump(objects: Sequence[Mapping[str, Any]]) -> str:
    return "".join("---\n" + yaml.safe_dump(dict(obj), sort_keys=False) for obj in objects)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def kube_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeApi]:
    if shutil.which("go") is None:
        pytest.skip("Go is not installed: the test API server is built from source with Go")
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent: the platform's CRDs for the test API server are not here")
    directory = tmp_path_factory.mktemp("apiserver")
    env = {**os.environ, "MESHGEN_PYTHON": sys.executable}
    started = subprocess.run(
        [str(SCRIPT), "start", str(directory), str(_free_port())],
        capture_output=True,
        text=True,
        env=env,
        timeout=3600,  # a first build on a busy 2-core machine took 40 minutes
        check=False,
    )
    if started.returncode != 0:
        pytest.fail(f"the test API server did not start: {started.stderr.strip()}")
    try:
        yield KubeApi(directory, directory / "kubeconfig", BIN)
    finally:
        subprocess.run(
            [str(SCRIPT), "stop", str(directory)], capture_output=True, timeout=60, check=False
        )

"""`scripts/test-apiserver`: what stops it says so in one line and exits non-zero.

These run before anything is built or started, so they need neither Go's build cache
nor time.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from kube_server import SCRIPT

needs_go = pytest.mark.skipif(shutil.which("go") is None, reason="Go is not installed")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
        check=False,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        yield int(listener.getsockname()[1])


def test_a_port_in_use_is_one_line(tmp_path: Path, busy_port: int) -> None:
    result = run("start", str(tmp_path / "kube"), str(busy_port))
    assert result.returncode == 1
    assert one_line(result) == (
        f"test-apiserver: port {busy_port} on 127.0.0.1 is in use; pass another PORT"
    )
    assert not (tmp_path / "kube" / "pid").exists()


def test_missing_go_is_one_line(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # The script's own tools, without Go.
    for tool in ("bash", "dirname", "mktemp", "rm", "grep", "cat", "mkdir"):
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    result = run("build", env={"PATH": str(bin_dir)})
    assert result.returncode == 1
    assert one_line(result).startswith("test-apiserver: Go is not installed")


@needs_go
def test_a_failed_build_is_one_line() -> None:
    result = run("build", env={"GOFLAGS": "-no-such-flag"})
    assert result.returncode == 1
    line = one_line(result)
    assert line.startswith("test-apiserver: building the API server failed: go: ")
    assert "-no-such-flag" in line


def test_usage_is_exit_2() -> None:
    result = run("begin")
    assert result.returncode == 2
    assert "usage: scripts/test-apiserver" in result.stderr


def test_stop_without_a_server_is_harmless(tmp_path: Path) -> None:
    assert run("stop", str(tmp_path / "never-started")).returncode == 0

"""Ctrl-C stops a slow render at once, and commands that do not render start no Helm worker.

Each case runs the real `meshgen` command on a chart whose template loops for minutes
(within the default 120 s render limit), and marks the processes it starts with an
environment variable, so that the Helm worker can be found without a list of names.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

MESHGEN = Path(sys.executable).with_name("meshgen")
# Ten billion empty iterations: minutes of work that only a limit or a signal stops.
ENDLESS = "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}"
MARK = "MESHGEN_TEST_MARK"


def _plant_endless_loop(repo: Path) -> None:
    template = repo / "charts" / "first-app" / "templates" / "runaway.yaml"
    template.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: runaway\n"
        f'data:\n  payload: "{ENDLESS}"\n'
    )


def _marked(mark: str, workers_only: bool = False) -> list[int]:
    """Processes whose environment carries `mark` (meshgen and what it started), or only
    the Helm workers among them."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if f"{MARK}={mark}".encode() not in environ.split(b"\0"):
            continue
        if not workers_only or b"meshgen/helm/worker.py" in command:
            found.append(int(entry.name))
    return found


def _start(repo: Path, args: list[str], mark: str, **env: str) -> subprocess.Popen[str]:
    environ = {k: v for k, v in os.environ.items() if k not in {"MESHGEN_HELM"}}
    environ.update({MARK: mark, "MESHGEN_NO_CACHE": "1", **env})
    return subprocess.Popen(
        [str(MESHGEN), "-C", str(repo), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
    )


def _wait_for_worker(process: subprocess.Popen[str], mark: str) -> None:
    """Until meshgen has a Helm worker, then a moment more for the worker to load the
    SDK and enter the render."""
    deadline = time.monotonic() + 60
    while not _marked(mark, workers_only=True):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no Helm worker started within 60 s"
        time.sleep(0.1)
    time.sleep(3)


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize(
    "command",
    [["validate", "--env", "staging"], ["render", "--env", "staging"]],
    ids=["validate", "render"],
)
def test_ctrl_c_stops_a_slow_render_within_a_second(
    repo_copy: Callable[[str], Path], command: list[str]
) -> None:
    repo = repo_copy("argocd")
    _plant_endless_loop(repo)
    mark = uuid.uuid4().hex
    process = _start(repo, command, mark)
    _wait_for_worker(process, mark)
    assert process.poll() is None, "the render ended by itself: the test proves nothing"

    process.send_signal(signal.SIGINT)
    sent = time.monotonic()
    try:
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    took = time.monotonic() - sent

    assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    assert "Traceback" not in stderr and "goroutine" not in stderr, stderr[:2000]
    # About a second on an idle machine; the margin is for a shared, loaded one.
    assert took < 3, f"meshgen took {took:.1f}s to stop after Ctrl-C"
    # The worker it started does not go on rendering after meshgen is gone.
    deadline = time.monotonic() + 5
    while _marked(mark) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _marked(mark) == []


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_validate_files_and_doctor_start_no_helm_worker(
    repo_copy: Callable[[str], Path], tmp_path: Path
) -> None:
    repo = repo_copy("argocd")
    manifest = tmp_path / "service.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: default\n"
        "spec:\n  ports:\n  - name: http\n    port: 80\n"
    )
    for args in (["validate", "--files", str(manifest)], ["doctor"]):
        mark = uuid.uuid4().hex
        process = _start(repo, args, mark)
        seen: set[int] = set()
        while process.poll() is None:
            seen.update(_marked(mark, workers_only=True))
            time.sleep(0.02)
        process.communicate()
        assert not seen, f"{args}: a Helm worker was started"

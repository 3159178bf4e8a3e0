"""Chart code is bounded: a runaway template is stopped and reported, never fatal to meshgen.

Each case runs the real `meshgen` command, with either Helm backend, and checks the exit
code, the one-line report, the time taken and that no Go goroutine dump reaches stderr.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from meshgen.helm.base import Limits, RenderLimitError
from meshgen.helm.isolation import HelmWorker
from meshgen.helm.sdk import EmbeddedHelm
from meshgen.render import render_app
from meshgen.repo import load_repo

MESHGEN = Path(sys.executable).with_name("meshgen")
HELM = shutil.which("helm")

# `until` allocates the whole list first: 100 million integers, then ten bytes each.
MEMORY_BOMB = "{{ range until 100000000 }}xxxxxxxxxx{{ end }}"
# Ten billion empty iterations on a few kilobytes: only a clock stops it.
ENDLESS = "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}"
# One string of 70 MB: more than the 64 MiB a render may print, within the memory limit.
HUGE_OUTPUT = '{{ repeat 70000000 "x" }}'

BACKENDS = [
    pytest.param(None, id="sdk"),
    pytest.param(
        HELM,
        id="binary",
        marks=pytest.mark.skipif(
            HELM is None, reason="no helm binary on PATH (`make test` installs one)"
        ),
    ),
]


def _plant(repo: Path, body: str) -> None:
    """Add a ConfigMap whose data is `body` to the chart of `repo`."""
    template = repo / "charts" / "first-app" / "templates" / "runaway.yaml"
    template.write_text(
        f'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: runaway\ndata:\n  payload: "{body}"\n'
    )


def _meshgen(
    repo: Path, args: list[str], helm: str | None, timeout: str | None = None
) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {k: v for k, v in os.environ.items() if k not in {"MESHGEN_HELM", "MESHGEN_HELM_TIMEOUT"}}
    if helm is not None:
        env["MESHGEN_HELM"] = helm
    if timeout is not None:
        env["MESHGEN_HELM_TIMEOUT"] = timeout
    started = time.monotonic()
    result = subprocess.run(
        [str(MESHGEN), "-C", str(repo), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    return result, time.monotonic() - started


def _assert_clean_stderr(result: subprocess.CompletedProcess[str], lines: int) -> None:
    assert "goroutine" not in result.stderr, result.stderr[:2000]
    assert "Traceback" not in result.stderr, result.stderr[:2000]
    assert len(result.stderr.splitlines()) == lines, result.stderr[:2000]


@pytest.mark.parametrize("helm", BACKENDS)
def test_a_runaway_loop_is_a_validate_finding(
    repo_copy: Callable[[str], Path], helm: str | None
) -> None:
    repo = repo_copy("argocd")
    _plant(repo, MEMORY_BOMB)

    result, took = _meshgen(repo, ["validate", "--env", "staging"], helm)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "MG201" in result.stdout
    assert "[staging]" in result.stdout
    assert "ran out of memory" in result.stdout
    _assert_clean_stderr(result, 0)
    assert took < 120


@pytest.mark.parametrize("helm", BACKENDS)
def test_a_runaway_loop_stops_render_with_one_line(
    repo_copy: Callable[[str], Path], helm: str | None
) -> None:
    repo = repo_copy("argocd")
    _plant(repo, MEMORY_BOMB)

    result, took = _meshgen(repo, ["render", "--env", "staging"], helm)

    assert result.returncode == 2
    assert result.stdout == ""
    _assert_clean_stderr(result, 1)
    assert result.stderr.startswith("meshgen: error: ")
    assert "charts/first-app" in result.stderr
    assert "environment staging" in result.stderr
    assert "ran out of memory" in result.stderr
    assert took < 120


@pytest.mark.parametrize("helm", BACKENDS)
def test_an_endless_loop_is_stopped_by_the_timeout(
    repo_copy: Callable[[str], Path], helm: str | None
) -> None:
    repo = repo_copy("argocd")
    _plant(repo, ENDLESS)

    render, render_took = _meshgen(repo, ["render", "--env", "staging"], helm, timeout="2")
    validate, validate_took = _meshgen(repo, ["validate", "--env", "staging"], helm, timeout="2")

    assert render.returncode == 2
    _assert_clean_stderr(render, 1)
    assert "did not finish within 2s" in render.stderr
    assert "environment staging" in render.stderr
    assert render_took < 30
    assert validate.returncode == 1, validate.stdout + validate.stderr
    assert "MG201" in validate.stdout
    assert "did not finish within 2s" in validate.stdout
    _assert_clean_stderr(validate, 0)
    # One render and one lint, each stopped after 2 s.
    assert validate_took < 40


@pytest.mark.parametrize("helm", BACKENDS)
def test_output_over_the_cap_is_refused(repo_copy: Callable[[str], Path], helm: str | None) -> None:
    repo = repo_copy("argocd")
    _plant(repo, HUGE_OUTPUT)

    result, _ = _meshgen(repo, ["render", "--env", "staging"], helm)

    assert result.returncode == 2
    assert result.stdout == ""
    _assert_clean_stderr(result, 1)
    assert "67108864 bytes" in result.stderr


def test_a_bad_timeout_setting_is_a_usage_error(repo_copy: Callable[[str], Path]) -> None:
    result, _ = _meshgen(repo_copy("argocd"), ["render", "--env", "staging"], None, "soon")

    assert result.returncode == 2
    assert "MESHGEN_HELM_TIMEOUT='soon'" in result.stderr
    _assert_clean_stderr(result, 1)


def test_the_worker_is_replaced_after_a_render_it_did_not_survive(
    repo_copy: Callable[[str], Path],
) -> None:
    bombed = repo_copy("argocd")
    _plant(bombed, MEMORY_BOMB)
    healthy = load_repo(Path(shutil.copytree(bombed, bombed.with_name("healthy"))))
    (healthy.root / "charts" / "first-app" / "templates" / "runaway.yaml").unlink()
    worker = HelmWorker()
    backend = EmbeddedHelm(Limits(timeout_seconds=60), worker)
    repo = load_repo(bombed)

    try:
        with pytest.raises(RenderLimitError, match=r"ran out of memory.*\(environment staging\)"):
            render_app(repo, repo.environment("staging"), repo.app(), backend)
        rendering = render_app(healthy, healthy.environment("staging"), healthy.app(), backend)
    finally:
        worker.close()

    assert any(m.kind == "Deployment" for m in rendering.manifests)

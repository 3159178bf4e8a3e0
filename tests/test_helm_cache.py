"""Renders and lints remembered across runs, keyed by content, never trusted when stale."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from meshgen.errors import TemplateError
from meshgen.helm.base import LintMessage, RenderedTemplate
from meshgen.helm.cached import CachedHelm
from meshgen.severity import Severity


class CountingHelm:
    """Renders the chart's one template with the values substituted, counting calls."""

    def __init__(self) -> None:
        self.calls = 0

    def describe(self) -> str:
        return "counting"

    def render(
        self,
        chart: Path,
        values: Mapping[str, Any],
        *,
        release: str,
        namespace: str,
        kube_version: str,
    ) -> list[RenderedTemplate]:
        self.calls += 1
        template = (chart / "templates" / "cm.yaml").read_text()
        if "fail" in values:
            raise TemplateError("refused")
        return [RenderedTemplate("c/templates/cm.yaml", template.format(**values))]

    def lint(
        self, chart: Path, values: Mapping[str, Any], *, namespace: str, kube_version: str
    ) -> list[LintMessage]:
        self.calls += 1
        return [LintMessage(Severity.INFO, "c", "icon is recommended")]


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    folder = tmp_path / "c"
    (folder / "templates").mkdir(parents=True)
    (folder / "templates" / "cm.yaml").write_text("data: {v}\n")
    return folder


def _render(backend: CachedHelm, chart: Path, **values: Any) -> list[RenderedTemplate]:
    return backend.render(chart, values, release="r", namespace="n", kube_version="1.34")


def test_a_second_run_reuses_the_render_and_lint(chart: Path, tmp_path: Path) -> None:
    first = CachedHelm(CountingHelm(), tmp_path / "cache", "helm 1")
    expected = _render(first, chart, v=1)
    lint = first.lint(chart, {"v": 1}, namespace="n", kube_version="1.34")
    inner = CountingHelm()
    second = CachedHelm(inner, tmp_path / "cache", "helm 1")
    assert _render(second, chart, v=1) == expected
    assert second.lint(chart, {"v": 1}, namespace="n", kube_version="1.34") == lint
    assert inner.calls == 0


@pytest.mark.parametrize("change", ["values", "chart", "helm", "namespace"])
def test_any_changed_input_renders_again(chart: Path, tmp_path: Path, change: str) -> None:
    _render(CachedHelm(CountingHelm(), tmp_path / "cache", "helm 1"), chart, v=1)
    inner = CountingHelm()
    backend = CachedHelm(inner, tmp_path / "cache", "helm 2" if change == "helm" else "helm 1")
    if change == "chart":
        (chart / "templates" / "cm.yaml").write_text("data: [{v}]\n")
    values = {"v": 2 if change == "values" else 1}
    namespace = "other" if change == "namespace" else "n"
    result = backend.render(chart, values, release="r", namespace=namespace, kube_version="1.34")
    assert inner.calls == 1
    expected = "data: [1]\n" if change == "chart" else f"data: {values['v']}\n"
    assert result[0].text == expected


def test_a_damaged_entry_is_not_trusted(chart: Path, tmp_path: Path) -> None:
    _render(CachedHelm(CountingHelm(), tmp_path / "cache", "helm 1"), chart, v=1)
    for entry in (tmp_path / "cache").rglob("*.json"):
        entry.write_text(entry.read_text().replace("data: 1", "data: 666"))
    inner = CountingHelm()
    assert _render(CachedHelm(inner, tmp_path / "cache", "helm 1"), chart, v=1)[0].text == (
        "data: 1\n"
    )
    assert inner.calls == 1


def test_a_failed_render_is_not_remembered(chart: Path, tmp_path: Path) -> None:
    backend = CachedHelm(CountingHelm(), tmp_path / "cache", "helm 1")
    for _ in range(2):
        with pytest.raises(TemplateError):
            _render(backend, chart, fail=True)
    assert backend.inner.calls == 2  # type: ignore[attr-defined]


def test_a_remembered_render_brings_its_parsed_documents_exactly(
    chart: Path, tmp_path: Path
) -> None:
    (chart / "templates" / "cm.yaml").write_text("a: {v}\n---\nb: [1, 2.5, true, null]\n")
    first = _render(CachedHelm(CountingHelm(), tmp_path / "cache", "helm 1"), chart, v="x")
    second = _render(CachedHelm(CountingHelm(), tmp_path / "cache", "helm 1"), chart, v="x")
    assert (
        first[0].parsed == second[0].parsed == ((1, {"a": "x"}), (3, {"b": [1, 2.5, True, None]}))
    )


def test_documents_json_cannot_hold_are_parsed_again_each_time(chart: Path, tmp_path: Path) -> None:
    # An unquoted date and a number key would come back from JSON as strings.
    (chart / "templates" / "cm.yaml").write_text("day: 2024-01-0{v}\n1: one\n")
    _render(CachedHelm(CountingHelm(), tmp_path / "cache", "helm 1"), chart, v=1)
    again = _render(CachedHelm(CountingHelm(), tmp_path / "cache", "helm 1"), chart, v=1)
    assert again[0].parsed is None


def _entry_sizes(cache: Path) -> int:
    return sum(entry.stat().st_size for entry in cache.rglob("*.json"))


def test_the_cache_is_bounded_and_keeps_what_was_used_last(chart: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (chart / "templates" / "cm.yaml").write_text("data: {v}\npadding: " + "x" * 4000 + "\n")
    # Ten runs of one render each, every one a new entry of about 4 kB.
    for value in range(10):
        _render(CachedHelm(CountingHelm(), cache, "helm 1", max_bytes=10**9), chart, v=value)
        for entry in cache.rglob("*.json"):  # older entries look older, whatever the clock
            os.utime(entry, (entry.stat().st_mtime - 10, entry.stat().st_mtime - 10))
    size = _entry_sizes(cache) // 10
    # Run 0's render is used again: it is now the most recently used.
    reused = CountingHelm()
    _render(CachedHelm(reused, cache, "helm 1", max_bytes=10**9), chart, v=0)
    assert reused.calls == 0

    # A run that writes to a cache over its bound prunes it, oldest first.
    _render(CachedHelm(CountingHelm(), cache, "helm 1", max_bytes=6 * size), chart, v=10)

    assert _entry_sizes(cache) <= 6 * size
    kept = CountingHelm()
    for value in (0, 10, 9):  # used last, written last, written before
        _render(CachedHelm(kept, cache, "helm 1", max_bytes=10**9), chart, v=value)
    assert kept.calls == 0
    dropped = CountingHelm()
    _render(CachedHelm(dropped, cache, "helm 1", max_bytes=10**9), chart, v=1)
    assert dropped.calls == 1


def test_a_run_that_only_reads_never_prunes(chart: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for value in range(3):
        _render(CachedHelm(CountingHelm(), cache, "helm 1"), chart, v=value)
    for value in range(3):
        _render(CachedHelm(CountingHelm(), cache, "helm 1", max_bytes=1), chart, v=value)
    assert len(list(cache.rglob("*.json"))) == 3


def test_temporary_files_of_a_killed_run_are_removed_once_stale(
    chart: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    _render(CachedHelm(CountingHelm(), cache, "helm 1"), chart, v=1)
    folder = next(cache.iterdir())
    stale, fresh = folder / ".tmp-stale", folder / ".tmp-fresh"
    stale.write_text("{")
    fresh.write_text("{")
    os.utime(stale, (0, 0))
    _render(CachedHelm(CountingHelm(), cache, "helm 1"), chart, v=2)
    assert not stale.exists()
    assert fresh.exists()  # perhaps another meshgen writing right now


@pytest.mark.parametrize(
    ("distribution", "module"),
    [
        ("helm-python-sdk", "helm_python"),
        ("kubernetes-validate", "kubernetes_validate"),
        ("jsonschema", "jsonschema"),
    ],
)
def test_cache_identities_name_the_installed_release(distribution: str, module: str) -> None:
    from importlib.metadata import version

    from meshgen.resources import installed_version

    assert installed_version(distribution, module) == version(distribution)


def test_a_remembered_render_does_not_let_a_chart_linked_out_of_the_repository_through(
    tmp_path: Path,
) -> None:
    """The same chart, now reached through a link that leaves the repository: a backend
    would refuse it, so the cache must not answer for it."""
    repo = tmp_path / "repo"
    chart = repo / "charts" / "c"
    (chart / "templates").mkdir(parents=True)
    (repo / "meshgen.yaml").write_text("name: r\n")
    (chart / "templates" / "cm.yaml").write_text("data: {v}\n")
    _render(CachedHelm(CountingHelm(), tmp_path / "cache", "helm 1"), chart, v=1)
    outside = tmp_path / "outside"
    chart.rename(outside)
    chart.symlink_to(outside)
    inner = CountingHelm()
    with pytest.raises(TemplateError, match="leads out of the repository"):
        _render(CachedHelm(inner, tmp_path / "cache", "helm 1"), chart, v=1)
    assert inner.calls == 0

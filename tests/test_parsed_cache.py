"""Plain YAML files' documents remembered across runs, keyed by content, never stale."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from meshgen import yamlio
from meshgen.errors import ConfigError
from meshgen.validate.inputs import parsed_cache
from meshgen.validate.inputs.parsed_cache import ParsedDocuments

MESHGEN = Path(sys.executable).with_name("meshgen")
TEXT = "# a comment\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\nb: [1, 2.5]\n"


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts actually parsed as YAML."""
    seen: list[str] = []
    real = yamlio.split_documents

    def counting(text: str, source: str, first_line: int = 1) -> object:
        seen.append(text)
        return real(text, source, first_line)

    monkeypatch.setattr(parsed_cache.yamlio, "split_documents", counting)
    return seen


def _split(folder: Path, text: str) -> list[tuple[int, object]]:
    return [(d.line, d.data) for d in ParsedDocuments(folder).split(text, "f.yaml")]


def test_an_unchanged_file_is_not_parsed_again(tmp_path: Path, parses: list[str]) -> None:
    first = _split(tmp_path, TEXT)
    second = _split(tmp_path, TEXT)
    assert (
        first
        == second
        == [
            (2, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}),
            (7, {"b": [1, 2.5]}),
        ]
    )
    assert parses == [TEXT]


def test_a_changed_file_is_parsed_again(tmp_path: Path, parses: list[str]) -> None:
    _split(tmp_path, TEXT)
    changed = TEXT.replace("name: a", "name: b")
    assert _split(tmp_path, changed)[0][1] == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "b"},
    }
    assert parses == [TEXT, changed]


def test_a_damaged_entry_is_not_trusted(tmp_path: Path, parses: list[str]) -> None:
    _split(tmp_path, TEXT)
    for entry in tmp_path.rglob("*.json"):
        entry.write_text(entry.read_text().replace('"a"', '"evil"'))
    assert _split(tmp_path, TEXT)[0][1]["metadata"] == {"name": "a"}  # type: ignore[index]
    assert len(parses) == 2


@pytest.mark.parametrize("text", ["day: 2024-01-01\n", "1: one\n"], ids=["a date", "a number key"])
def test_documents_json_cannot_hold_are_parsed_every_time(
    tmp_path: Path, parses: list[str], text: str
) -> None:
    assert _split(tmp_path, text) == _split(tmp_path, text)
    assert len(parses) == 2
    assert list(tmp_path.rglob("*.json")) == []


def test_a_file_that_does_not_parse_is_never_kept(tmp_path: Path) -> None:
    for _ in range(2):
        with pytest.raises(ConfigError, match="duplicate key"):
            _split(tmp_path, "a: 1\na: 2\n")
    assert list(tmp_path.rglob("*.json")) == []


def _validate(repo: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MESHGEN_")}
    return subprocess.run(
        [str(MESHGEN), "-C", str(repo), "validate", "--env", "staging"],
        capture_output=True,
        text=True,
        env={**environ, **env},
        check=False,
    )


def test_validate_sees_a_static_file_edited_between_runs(
    repo_copy: Callable[[str], Path], tmp_path: Path
) -> None:
    repo = repo_copy("argocd")
    cache = tmp_path / "cache"
    first = _validate(repo, MESHGEN_CACHE_DIR=str(cache))
    assert list((cache / "documents").rglob("*.json")), first.stderr
    issuer = next((repo / "platform").rglob("*issuer*.yaml"))
    issuer.write_text(issuer.read_text().replace("kind: ClusterIssuer", "kind: ClusterIssuerr", 1))

    second = _validate(repo, MESHGEN_CACHE_DIR=str(cache))

    assert "ClusterIssuerr" in second.stdout, second.stdout + second.stderr
    assert "ClusterIssuerr" not in first.stdout


def test_no_cache_writes_nothing(repo_copy: Callable[[str], Path], tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    result = _validate(repo_copy("argocd"), MESHGEN_CACHE_DIR=str(cache), MESHGEN_NO_CACHE="1")
    assert "objects" in result.stdout, result.stderr
    assert not cache.exists()

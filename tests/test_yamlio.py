"""Round-trip YAML: untouched files keep their bytes; edits keep everything else."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from meshgen import resources, yamlio
from meshgen.errors import ConfigError


@pytest.mark.parametrize("profile", ["staging", "production"])
def test_default_overlays_round_trip_byte_for_byte(profile: str) -> None:
    path = resources.environments_dir() / "defaults" / f"{profile}.yaml"
    assert yamlio.dumps_roundtrip(yamlio.load_roundtrip(path)) == path.read_text()


def test_editing_one_scalar_changes_one_line(tmp_path: Path) -> None:
    path = tmp_path / "env.yaml"
    original = "# keep me\ntraffic:\n  v1: 100   # stable\n  v2: 0\nhost: 'quoted'\n"
    path.write_text(original)
    tree = yamlio.load_roundtrip(path)
    tree["traffic"]["v1"] = 90
    tree["traffic"]["v2"] = 10
    yamlio.dump_roundtrip(tree, path)
    assert path.read_text() == original.replace("v1: 100 ", "v1: 90  ").replace("v2: 0", "v2: 10")


def test_atomic_write_keeps_permissions(tmp_path: Path) -> None:
    path = tmp_path / "env.yaml"
    path.write_text("a: 1\n")
    path.chmod(0o640)
    yamlio.atomic_write_text(path, "a: 2\n")
    assert path.read_text() == "a: 2\n"
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["env.yaml"]


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("a: 1\nb: [unclosed\n")
    with pytest.raises(ConfigError) as caught:
        yamlio.load_roundtrip(path)
    assert str(caught.value).startswith(f"{path}:")
    assert "invalid YAML" in str(caught.value)


def test_non_utf8_and_binary_files_are_refused(tmp_path: Path) -> None:
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"a: 1\nname: caf\xe9\n")
    with pytest.raises(ConfigError, match=r"latin.yaml:2: not valid UTF-8"):
        yamlio.load_roundtrip(latin)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\x00\x01\x02")
    with pytest.raises(ConfigError, match="binary file"):
        yamlio.load_roundtrip(binary)


def test_split_documents_reports_start_lines() -> None:
    text = "# comment\na: 1\n---\n\nb: 2\n---\n"
    documents = list(yamlio.split_documents(text, "x.yaml"))
    assert [(d.line, d.data) for d in documents] == [(2, {"a": 1}), (5, {"b": 2})]


def _alias_bomb(levels: int = 9) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def test_alias_bombs_are_refused_in_person_maintained_files(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(_alias_bomb())
    with pytest.raises(ConfigError, match="alias bomb"):
        yamlio.load_roundtrip(path)


def test_alias_bombs_and_recursive_aliases_are_refused_in_manifests() -> None:
    with pytest.raises(ConfigError, match="alias bomb"):
        list(yamlio.split_documents(_alias_bomb(), "bomb.yaml"))
    with pytest.raises(ConfigError, match="recursive YAML"):
        list(yamlio.split_documents("a: &a [*a]\n", "loop.yaml"))


def test_modest_aliases_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "anchors.yaml"
    path.write_text("base: &base {cpu: 1}\nother: *base\n")
    assert yamlio.load_roundtrip(path)["other"] == {"cpu": 1}


def test_duplicate_keys_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("traffic:\n  v1: 50\n  v1: 50\n")
    with pytest.raises(ConfigError, match=r"dup.yaml:3: invalid YAML: found duplicate key"):
        yamlio.load_roundtrip(path)


def test_deep_nesting_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("[" * 5000 + "]" * 5000)
    with pytest.raises(ConfigError, match="invalid YAML"):
        yamlio.load_roundtrip(path)
    with pytest.raises(ConfigError, match="invalid YAML"):
        list(yamlio.split_documents("[" * 5000 + "]" * 5000, "deep.yaml"))


def test_huge_files_are_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("w") as handle:
        handle.write("a: '")
        handle.write("x" * (yamlio.MAX_FILE_BYTES + 1))
        handle.write("'\n")
    with pytest.raises(ConfigError, match="larger than"):
        yamlio.load_roundtrip(path)


def test_atomic_write_failure_keeps_the_original(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "env.yaml"
    path.write_text("traffic:\n  v1: 100\n")

    def failing_fsync(_fd: int) -> None:
        raise OSError("disk full (injected)")

    monkeypatch.setattr(yamlio.os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="injected"):
        yamlio.atomic_write_text(path, "traffic:\n  v1: 0\n")
    assert path.read_text() == "traffic:\n  v1: 100\n"
    assert [p.name for p in tmp_path.iterdir()] == ["env.yaml"]


def test_duplicate_keys_in_manifests_are_refused_but_merge_keys_work() -> None:
    with pytest.raises(ConfigError, match=r"x.yaml:4: invalid YAML: found duplicate key 'c'"):
        list(yamlio.split_documents("a: 1\nb:\n  c: 1\n  c: 2\n", "x.yaml"))
    text = "base: &base {cpu: 1, memory: 2}\nlimits:\n  <<: *base\n  cpu: 3\n"
    (document,) = yamlio.split_documents(text, "merge.yaml")
    assert document.data["limits"] == {"cpu": 3, "memory": 2}


def test_windows_line_endings_split_into_documents() -> None:
    text = "a: 1\r\n---\r\nb: 2\r\n--- # next\r\nc: 3\r\n"
    documents = [(d.line, d.data) for d in yamlio.split_documents(text, "crlf.yaml")]
    assert documents == [(1, {"a": 1}), (3, {"b": 2}), (5, {"c": 3})]


@pytest.mark.parametrize(
    "text",
    [
        "#\n" * (2 * 1024 * 1024 - 8),
        "# a comment padded to look like a long explanation of nothing\n" * 65_000,
        "#" * (4 * 1024 * 1024 - 8),
    ],
    ids=["short-lines", "long-lines", "one-line"],
)
def test_a_file_of_nothing_but_comments_is_empty_at_once(text: str) -> None:
    assert len(text) < yamlio.MAX_FILE_BYTES
    start = time.perf_counter()
    assert yamlio.loads_roundtrip(text, Path("x.yaml")) is None
    # ruamel alone takes minutes on the short-lines file.
    assert time.perf_counter() - start < 5


def test_padding_past_the_line_limit_is_refused_not_parsed_for_minutes() -> None:
    text = "#\n" * yamlio.MAX_ROUNDTRIP_LINES + "a: 1\n"
    with pytest.raises(ConfigError, match="lines, more than the") as caught:
        yamlio.loads_roundtrip(text, Path("x.yaml"))
    assert str(caught.value).startswith("x.yaml: ")
    assert yamlio.loads_roundtrip("# keep\na: 1 # and me\n", Path("x.yaml")) == {"a": 1}


def test_ruamel_warnings_never_reach_stderr(tmp_path: Path) -> None:
    """ruamel warns over a dozen lines on a float without a dot (YAML 1.1) or a reused
    anchor; a command's error output stays one line. Run apart: pytest shows warnings."""
    path = tmp_path / "values.yaml"
    path.write_text("ratio: 1e3\nfirst: &a 1\nsecond: &a 2\n")
    script = (
        "import sys; from pathlib import Path; from meshgen import yamlio; "
        "print(yamlio.load_roundtrip(Path(sys.argv[1])))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stderr == ""
    assert "'ratio': 1000.0" in result.stdout


def test_a_value_tagged_as_text_is_text() -> None:
    """`!!str 123` is the text 123 (ruamel keeps it as a tagged scalar, which Helm's values
    and the answers of `meshgen new` would not recognise); other tags stay as they are."""
    data = yamlio.loads_roundtrip("a: !!str 123\nb: !!str yes\nc: !custom x\n", Path("x.yaml"))
    plain = yamlio.to_plain(data)
    assert (plain["a"], plain["b"]) == ("123", "yes")
    assert not isinstance(plain["c"], str)

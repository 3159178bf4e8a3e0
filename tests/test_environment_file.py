"""The one reader of environment files: values, versions, weights and where they are written."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshgen import safefs
from meshgen.environment_file import EnvironmentFile
from meshgen.errors import ConfigError

PATH = Path("environments/staging/first-app.yaml")

TEXT = """\
host: first-app.staging.acme.io
versions:
  v1:
    image: {repository: docker.io/acme/first-app, tag: "1.10"}
    replicas: 2
  v2:
    image:
      repository: docker.io/acme/first-app
      tag: "2.0"
traffic:
  v1: 90
  v2: 10
  v3: true
"""


def test_a_file_reads_as_values_versions_and_whole_weights() -> None:
    env = EnvironmentFile.parse(TEXT, PATH)
    assert env.version_names == ["v1", "v2"]
    assert env.image_tags() == {"v1": "1.10", "v2": "2.0"}
    assert env.version("v1").replicas == 2
    assert env.version("v2").replicas is None
    # YAML's true is no weight, though Python counts it as the integer 1.
    assert env.whole_weights() == {"v1": 90, "v2": 10}
    assert env.values()["traffic"] == {"v1": 90, "v2": 10, "v3": True}
    assert type(env.values()["traffic"]["v1"]) is int


def test_lines_point_at_the_weight_else_at_its_section() -> None:
    env = EnvironmentFile.parse(TEXT, PATH)
    assert env.weight_line("v2") == 12
    assert env.weight_line("v9") == 10
    assert env.version_line("v2") == 6
    assert env.version_line("v9") == 2


def test_an_empty_file_has_no_values_and_no_weights() -> None:
    env = EnvironmentFile.parse("# nothing yet\n", PATH)
    assert env.values() == {}
    assert env.whole_weights() == {}
    assert env.version_names == []
    assert env.weight_line("v1") is None


def test_a_file_that_is_not_a_mapping_names_file_and_line() -> None:
    env = EnvironmentFile.parse("- v1\n- v2\n", PATH)
    assert env.whole_weights() == {}
    with pytest.raises(ConfigError, match="expected a mapping of chart values") as caught:
        env.values()
    assert str(caught.value).startswith(f"{PATH}:1:")


def test_invalid_yaml_names_file_and_line() -> None:
    with pytest.raises(ConfigError, match="invalid YAML") as caught:
        EnvironmentFile.parse("traffic:\n  v1: 90\n  v2: [10\n", PATH)
    assert str(caught.value).startswith(f"{PATH}:")


def test_text_from_git_is_bounded_like_a_file() -> None:
    padding = "#" + "x" * safefs.MAX_FILE_BYTES + "\n"
    with pytest.raises(ConfigError, match="larger than"):
        EnvironmentFile.parse(padding + TEXT, PATH)


def test_a_file_outside_the_repository_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "environments" / "staging").mkdir(parents=True)
    (repo / "meshgen.yaml").write_text("name: x\n")
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text(TEXT)
    inside = repo / "environments" / "staging" / "first-app.yaml"
    inside.symlink_to(outside)
    with pytest.raises(ConfigError):
        EnvironmentFile.read(inside)
    inside.unlink()
    inside.write_text(TEXT)
    assert EnvironmentFile.read(inside).whole_weights() == {"v1": 90, "v2": 10}

"""The files `meshgen new` writes per environment: the same bytes, read no YAML."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from meshgen import TEMPLATE_VERSION, yamlio
from meshgen.day2 import archive
from meshgen.day2.templates import template_data
from meshgen.environment_file import EnvironmentFile
from meshgen.errors import ConfigError
from meshgen.scaffold.create import environment_file_text

TEMPLATE_VERSIONS = sorted({*archive.RELEASED, TEMPLATE_VERSION})
HOSTS = [
    "first-app.staging.example.com",
    "shop.prod-eu-1.acme.io",
    # Hosts the line edit leaves to the round-trip reader: a leading digit, no dot.
    "1st.staging.example.com",
    "first-app",
]


def _round_trip_edit(defaults: Path, host: str) -> str:
    tree = EnvironmentFile.read(defaults).tree
    tree["host"] = host
    return yamlio.dumps_roundtrip(tree)


@pytest.mark.parametrize("version", TEMPLATE_VERSIONS)
@pytest.mark.parametrize("host", HOSTS)
def test_an_environment_file_is_its_defaults_edited_as_a_round_trip_would(
    version: int, host: str
) -> None:
    with template_data(version) as data:
        defaults = sorted((data / "environments" / "defaults").glob("*.yaml"))
        assert [path.name for path in defaults] == ["production.yaml", "staging.yaml"]
        for path in defaults:
            assert environment_file_text(path, host) == _round_trip_edit(path, host), path


@pytest.mark.parametrize(
    "text",
    [
        "# host: in a comment\nhost: a.example.com\nhost2: b\n",
        "gateway:\n  host: inner.example.com\nhost: a.example.com  # trailing comment\n",
        "host: 'quoted.example.com'\n",
        "versions: {}\n",
        # A line edit would keep the continuation, part of the host's value.
        "host: a.example.com\n  continued\nversions: {}\n",
        "host: a.example.com",
        "host:   a.example.com\nversions:   {}\n",
        "%YAML 1.1\n---\nhost: a.example.com\n",
    ],
)
def test_defaults_of_another_shape_are_edited_by_the_round_trip_reader(
    tmp_path: Path, text: str
) -> None:
    defaults = tmp_path / "staging.yaml"
    defaults.write_text(text)
    host = "first-app.staging.example.com"
    assert environment_file_text(defaults, host) == _round_trip_edit(defaults, host)


def test_new_reads_no_yaml_without_a_config_file(tmp_path: Path) -> None:
    """`meshgen new` writes YAML from templates and edits one line per environment file:
    loading a YAML library would only add to its start-up."""
    code = (
        "import sys; from meshgen.cli import main\n"
        f"sys.argv = ['meshgen', 'new', {str(tmp_path / 'acme-mesh')!r}, '--no-input']\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "loaded = ('yaml', 'ruamel.yaml', 'meshgen.yamlio')\n"
        "print('YAML=' + ','.join(m for m in loaded if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "YAML=", result.stdout
    written = (tmp_path / "acme-mesh" / "environments" / "staging" / "first-app.yaml").read_text()
    assert "\nhost: first-app.staging.example.com\n" in written


def test_defaults_of_two_documents_are_refused_not_half_edited(tmp_path: Path) -> None:
    defaults = tmp_path / "staging.yaml"
    defaults.write_text("host: a.example.com\n---\nhost: b.example.com\n")
    with pytest.raises(ConfigError):
        environment_file_text(defaults, "first-app.staging.example.com")

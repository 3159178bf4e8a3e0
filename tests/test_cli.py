"""The command line as a whole: version, help, errors, doctor."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Invoke
from meshgen import __version__
from meshgen.cli import _COMMANDS


def test_version(invoke: Invoke) -> None:
    assert invoke(["--version"]).stdout.strip() == f"meshgen, version {__version__}"


@pytest.mark.parametrize("command", sorted(_COMMANDS))
def test_every_command_help_has_an_example(invoke: Invoke, command: str) -> None:
    output = invoke([command, "--help"]).stdout
    assert "Example" in output
    assert f"meshgen {command}" in output


def test_unknown_option_is_a_usage_error(invoke: Invoke) -> None:
    result = invoke(["validate", "--no-such-option"], expect=2)
    assert "No such option" in result.stderr


def test_errors_are_one_line_without_traceback(tmp_path: Path, invoke: Invoke) -> None:
    result = invoke(["validate", str(tmp_path)], expect=2)
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("meshgen: error: not a meshgen repository")


def test_traceback_flag_shows_the_traceback(tmp_path: Path, invoke: Invoke) -> None:
    result = invoke(["--traceback", "validate", str(tmp_path)], expect=2)
    assert "Traceback" in result.stderr


def test_doctor_reports_the_tools(invoke: Invoke) -> None:
    output = invoke(["doctor"]).stdout
    assert "embedded Helm SDK v" in output
    assert "git version" in output
    (kubectl,) = [line for line in output.splitlines() if line.startswith("kubectl ")]
    if shutil.which("kubectl"):
        assert re.match(r"kubectl +ok +client v\d+\.\d+", kubectl), kubectl
    else:
        assert re.match(r"kubectl +-- +.*needed only for --kubectl", kubectl), kubectl


def test_doctor_fails_when_the_chosen_helm_binary_is_missing(
    invoke: Invoke, tmp_path: Path
) -> None:
    result = invoke(["doctor", "--helm-binary", str(tmp_path / "no-helm")], expect=2)
    assert "helm" in result.stdout
    assert "MISSING" in result.stdout


def test_console_script_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "meshgen", "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "meshgen new" in result.stdout


def test_help_does_not_load_heavy_modules() -> None:
    code = (
        "import sys; from meshgen.cli import cli\n"
        "try:\n    cli.main(['--help'], standalone_mode=False)\nexcept SystemExit: pass\n"
        "heavy = ('helm_python', 'cookiecutter', 'git', 'jsonschema', 'yamale')\n"
        "print('HEAVY=' + ','.join(m for m in heavy if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip().splitlines()[-1] == "HEAVY=", result.stdout

"""The command line as a whole: version, help, errors, doctor."""

from __future__ import annotations

import os
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
    result = invoke(["-C", str(tmp_path), "validate"], expect=2)
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("meshgen: error: not a meshgen repository")


def test_traceback_flag_shows_the_traceback(tmp_path: Path, invoke: Invoke) -> None:
    result = invoke(["--traceback", "-C", str(tmp_path), "validate"], expect=2)
    assert "Traceback" in result.stderr


def test_every_command_works_on_the_current_folder_or_on_dash_c(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke(["new", str(tmp_path / "acme"), "--no-input"])
    monkeypatch.chdir(tmp_path)
    from_outside = invoke(["-C", "acme", "weights", "show", "--format", "json"]).stdout
    monkeypatch.chdir(tmp_path / "acme" / "environments")
    assert invoke(["weights", "show", "--format", "json"]).stdout == from_outside
    monkeypatch.chdir(tmp_path)
    invoke(["-C", "acme", "render", "--env", "staging", "--output", "rendered"])
    # Relative paths are read in DIR, as with `git -C`; the caller's folder is kept.
    assert (tmp_path / "acme" / "rendered" / "staging" / "first-app.yaml").is_file()
    assert Path.cwd() == tmp_path


@pytest.mark.parametrize("output", ["environments", "environments/staging/..", "gitops"])
def test_render_never_writes_over_the_repository_own_files(
    tmp_path: Path, invoke: Invoke, output: str
) -> None:
    repo = tmp_path / "acme"
    invoke(["new", str(repo), "--no-input"])
    before = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts}
    result = invoke(["-C", str(repo), "render", "--env", "staging", "--output", output], expect=2)
    assert "which the repository keeps" in result.stderr
    after = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert after == before


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["version", "add"], "Did you mean 'versions add'?"),
        (["wieghts"], "Did you mean 'weights'?"),
        (["set", "staging", "v1=100"], "Did you mean 'weights set'?"),
        (["retire"], "Did you mean 'versions retire'?"),
        (["weights", "shfit"], "Did you mean 'shift'?"),
        (["rules", "--fromat", "json"], "Did you mean '--format'?"),
    ],
)
def test_unknown_words_get_a_suggestion(invoke: Invoke, args: list[str], words: str) -> None:
    result = invoke(args, expect=2)
    assert words in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "args",
    [
        ["weights", "show", "{repo}"],
        ["weights", "set", "staging", "v1=100", "--repo", "{repo}"],
    ],
)
def test_the_repository_forms_of_earlier_releases_point_at_dash_c(
    tmp_path: Path, invoke: Invoke, args: list[str]
) -> None:
    result = invoke([arg.replace("{repo}", str(tmp_path)) for arg in args], expect=2)
    assert "meshgen -C DIR COMMAND" in result.stderr


def test_validate_takes_the_repository_as_path_or_with_dash_c(
    tmp_path: Path, invoke: Invoke
) -> None:
    repo = tmp_path / "acme"
    invoke(["new", str(repo), "--no-input", "--domain", "acme.io", "--acme-email", "ops@acme.io"])
    (repo / "environments/staging/first-app.yaml").write_text("weights: {v1: 90}\n")
    by_path = invoke(["validate", str(repo / "environments"), "--format", "json"], expect=1)
    by_dash_c = invoke(["-C", str(repo), "validate", "--format", "json"], expect=1)
    relative = invoke(["-C", str(tmp_path), "validate", "acme", "--format", "json"], expect=1)
    assert by_path.stdout == by_dash_c.stdout == relative.stdout
    assert "environments/staging/first-app.yaml" in by_path.stdout


def test_validate_path_must_be_a_folder_and_not_combined_with_files(
    tmp_path: Path, invoke: Invoke
) -> None:
    missing = invoke(["validate", str(tmp_path / "nowhere")], expect=2)
    assert "does not exist" in missing.stderr
    combined = invoke(["validate", str(tmp_path), "--files", "-"], expect=2)
    assert "with --files give the manifests only" in combined.stderr
    two = invoke(["validate", str(tmp_path), str(tmp_path)], expect=2)
    assert "one repository PATH at a time, not 2" in two.stderr


def test_a_shell_glob_after_files_is_told_how_to_pass_several(
    tmp_path: Path, invoke: Invoke
) -> None:
    """`--files out/*.yaml` reaches meshgen as `--files out/a.yaml out/b.yaml out/c.yaml`:
    the error names --files and the way to pass them all, not a folder that is a file."""
    names = [tmp_path / f"{name}.yaml" for name in "abc"]
    for name in names:
        name.write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n")
    result = invoke(["validate", "--files", *map(str, names)], expect=2)
    assert result.stderr.count("\n") == 1, result.stderr
    assert "each after its own --files or as a folder" in result.stderr
    assert "write --files out/" in result.stderr


def test_an_extra_word_that_is_no_folder_gets_no_repository_hint(invoke: Invoke) -> None:
    result = invoke(["rules", "no-such-folder"], expect=2)
    assert "unexpected extra argument (no-such-folder)" in result.stderr
    assert "-C DIR" not in result.stderr


def test_the_canary_verbs_also_live_under_weights(tmp_path: Path, invoke: Invoke) -> None:
    repo = tmp_path / "acme"
    invoke(["new", str(repo), "--no-input"])
    invoke(["-C", str(repo), "weights", "shift", "staging", "--to", "v2", "--step", "10"])
    invoke(["-C", str(repo), "weights", "promote", "production", "v2"])
    staging = (repo / "environments/staging/first-app.yaml").read_text()
    production = (repo / "environments/production/first-app.yaml").read_text()
    assert "v1: 90" in staging
    assert "v2: 10" in staging
    assert "v1: 0" in production
    assert "v2: 100" in production


def test_a_missing_dash_c_folder_is_a_usage_error(tmp_path: Path, invoke: Invoke) -> None:
    result = invoke(["-C", str(tmp_path / "nope"), "validate"], expect=2)
    assert "'-C'" in result.stderr
    assert "does not exist" in result.stderr


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


def test_shell_completion_as_the_readme_sets_it_up() -> None:
    command = Path(sys.executable).with_name("meshgen")
    if not command.is_file():
        pytest.skip(f"no console script {command} (meshgen not installed in this environment)")
    env = {**os.environ, "_MESHGEN_COMPLETE": "bash_complete", "COMP_CWORD": "2"}
    done = subprocess.run(
        [str(command)],
        env={**env, "COMP_WORDS": "meshgen weights s"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.split() == ["plain,set", "plain,shift", "plain,show"]
    script = subprocess.run(
        [str(command)],
        env={**os.environ, "_MESHGEN_COMPLETE": "bash_source"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "complete -o nosort -F _meshgen_completion meshgen" in script.stdout

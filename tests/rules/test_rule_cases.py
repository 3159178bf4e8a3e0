"""Every rule, one passing and one failing case, from folders under tests/rules/.

tests/rules/<RULE>/<pass|fail>/case.yaml says how to run the case:

- `mode: files`: the folder's YAML files are given to `meshgen validate --files`
  (run from the folder, so paths in findings are the file names), plus `args`;
- `mode: repo`: a freshly generated repository (`engine`), prepared as the bad-input
  cases are (tests/helpers.py): the folder's `files/` copied over it, then `replace:
  [{file, old, new}]` (first occurrence) and `delete: [file]`.

Only the rule under test runs (`--select`). A `pass*` case expects nothing and must
yield no finding of that rule; a `fail*` case must yield exactly one finding per
`expect` entry, each entry a substring of its line (`path:line:col: RULE severity:
message`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import Invoke
from helpers import apply_case_edits, copy_case_files

RULES_DIR = Path(__file__).resolve().parent / "rules"
CASES = sorted(path.parent for path in RULES_DIR.glob("*/*/case.yaml"))
# Layer 6 needs an API server to reject something; tests/test_kubectl.py covers it.
NO_CASE_FOLDERS = {"MG901"}
# Families whose rules live in this module's case folders; the platform (MG5xx),
# security (MG6xx) and guardrail (MG7xx) families keep their cases with their rules.
CASE_FAMILIES = ("MG0", "MG1", "MG2", "MG3", "MG4", "MG9")


def _case_id(folder: Path) -> str:
    return f"{folder.parent.name}-{folder.name}"


def run_case(
    folder: Path,
    invoke: Invoke,
    repo_copy: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[dict[str, Any], list[str]]:
    case = yaml.safe_load((folder / "case.yaml").read_text())
    # A misspelt key would be ignored, and the case would pass for the wrong reason.
    unknown = set(case) - {"mode", "engine", "args", "replace", "delete", "expect"}
    assert not unknown, f"{_case_id(folder)}: unknown keys {sorted(unknown)}"
    rule_id = folder.parent.name
    if case["mode"] == "files":
        monkeypatch.chdir(folder)
        inputs = sorted(p.name for p in folder.glob("*.yaml") if p.name != "case.yaml")
        args = ["validate", "--select", rule_id, *case.get("args", [])]
        for name in inputs:
            args += ["--files", name]
    else:
        repo = repo_copy(case.get("engine", "argocd"))
        copy_case_files(folder, repo)
        apply_case_edits(case, repo)
        args = ["-C", str(repo), "validate", "--select", rule_id, *case.get("args", [])]
    result = invoke(args, expect=None)
    assert result.exit_code in (0, 1), result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if f": {rule_id} " in line]
    return case, lines


@pytest.mark.parametrize("folder", CASES, ids=_case_id)
def test_rule_case(
    folder: Path,
    invoke: Invoke,
    repo_copy: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case, lines = run_case(folder, invoke, repo_copy, monkeypatch)
    if folder.name.startswith("pass"):
        assert not case.get("expect"), f"{_case_id(folder)}: a passing case expects nothing"
        assert lines == [], f"{_case_id(folder)} should pass:\n" + "\n".join(lines)
        return
    assert folder.name.startswith("fail"), f"{_case_id(folder)}: name it pass* or fail*"
    expected = case["expect"]
    assert expected, f"{_case_id(folder)}: a failing case lists its findings"
    assert len(lines) == len(expected), "\n".join(lines)
    for want, line in zip(sorted(expected), sorted(lines), strict=True):
        assert want in line, f"{want!r} not in {line!r}"


def test_every_rule_has_a_passing_and_a_failing_case() -> None:
    from meshgen.validate.registry import all_rules

    missing = [
        f"{rule.id}/{kind}"
        for rule in all_rules()
        if rule.id.startswith(CASE_FAMILIES) and rule.id not in NO_CASE_FOLDERS
        for kind in ("pass", "fail")
        if not (RULES_DIR / rule.id / kind / "case.yaml").is_file()
    ]
    assert not missing, f"rules without case folders: {', '.join(missing)}"


def test_case_folders_name_registered_rules() -> None:
    from meshgen.validate.registry import all_rules

    known = {rule.id for rule in all_rules()}
    assert {folder.parent.name for folder in CASES} <= known

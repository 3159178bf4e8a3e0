"""Every rule, at least one passing and one failing case, found by the rule's ID.

tests/rules/<RULE>/<pass*|fail*>/case.yaml says how to run the case:

- `mode: files`: the folder's YAML files are given to `meshgen validate --files`
  (run from the folder, so paths in findings are the file names), plus `args`;
- `mode: repo`: a freshly generated repository (`engine`), prepared as the bad-input
  cases are (tests/helpers.py): the folder's `files/` copied over it, then `replace:
  [{file, old, new, every}]` (in order; the first occurrence, or each with `every:
  true`) and `delete: [path]` (a file or a folder).

Only the rule under test runs (`--select`). A `pass*` case expects nothing and must
yield no finding of that rule; a `fail*` case must yield exactly one finding per
`expect` entry, each entry a substring of its line (`path:line:col: RULE severity:
message`).

A case that needs more than files (a git history, a command run before `validate`, a
fake `kubectl`) is a test function in the module of its rule family,
tests/rules/test_<family>_rules.py (the kubectl layer's in tests/test_kubectl.py),
marked `@pytest.mark.rule_case("MG701", "fail")`; a test may carry several marks.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import Invoke
from helpers import apply_case_edits, copy_case_files

RULES_DIR = Path(__file__).resolve().parent
TESTS_DIR = RULES_DIR.parent
CASES = sorted(path.parent for path in RULES_DIR.glob("*/*/case.yaml"))
KINDS = ("pass", "fail")
# `path:line:col: RULE severity: message`
FINDING = re.compile(r"^.+:\d+:\d+: (?P<rule>MG\d{3}) \w+: ")


def _case_id(folder: Path) -> str:
    return f"{folder.parent.name}-{folder.name}"


def run_case(
    folder: Path,
    invoke: Invoke,
    repo_copy: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    *,
    select: str = "",
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Run the case with its rule selected (or `select`): its findings' lines, by rule."""
    case = yaml.safe_load((folder / "case.yaml").read_text())
    # A misspelt key would be ignored, and the case would pass for the wrong reason.
    unknown = set(case) - {"mode", "engine", "args", "replace", "delete", "expect"}
    assert not unknown, f"{_case_id(folder)}: unknown keys {sorted(unknown)}"
    rule_id = select or folder.parent.name
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
    findings: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        if found := FINDING.match(line):
            findings.setdefault(found["rule"], []).append(line)
    return case, findings


@pytest.mark.parametrize("folder", CASES, ids=_case_id)
def test_rule_case(
    folder: Path,
    invoke: Invoke,
    repo_copy: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case, findings = run_case(folder, invoke, repo_copy, monkeypatch)
    lines = findings.get(folder.parent.name, [])
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


def marked_cases(tests: Path) -> Iterator[tuple[str, str, str]]:
    """(rule, kind, test) for each `@pytest.mark.rule_case(RULE, KIND)` under `tests`."""
    for module in sorted(tests.rglob("test_*.py")):
        tree = ast.parse(module.read_text(), filename=str(module))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and isinstance(decorator.func, ast.Attribute)
                    and decorator.func.attr == "rule_case"
                ):
                    rule_id, kind = (ast.literal_eval(arg) for arg in decorator.args)
                    yield rule_id, kind, f"{module.relative_to(tests)}::{node.name}"


def covered_cases() -> set[tuple[str, str]]:
    """(rule, kind) pairs that a case folder or a marked test covers."""
    folders = {
        (folder.parent.name, kind)
        for folder in CASES
        for kind in KINDS
        if folder.name.startswith(kind)
    }
    marks = {(rule_id, kind) for rule_id, kind, _ in marked_cases(TESTS_DIR)}
    return folders | marks


def test_every_rule_has_a_passing_and_a_failing_case() -> None:
    from meshgen.validate.registry import all_rules

    covered = covered_cases()
    missing = [
        f"{rule.id}/{kind}"
        for rule in all_rules()
        for kind in KINDS
        if (rule.id, kind) not in covered
    ]
    assert not missing, f"rules without a passing or failing case: {', '.join(missing)}"


def test_cases_name_registered_rules_and_a_kind() -> None:
    from meshgen.validate.registry import all_rules

    known = {rule.id for rule in all_rules()}
    assert {folder.parent.name for folder in CASES} <= known
    marks = list(marked_cases(TESTS_DIR))
    assert marks, "no test is marked rule_case: is the marker still spelt so?"
    wrong = [test for rule_id, kind, test in marks if rule_id not in known or kind not in KINDS]
    assert not wrong, f"rule_case marks naming no rule or kind: {', '.join(wrong)}"

"""The restricted Pod Security Standard rules (MG601-MG613) and the credential check (MG620).

Each rule's cases are folders under tests/rules/<RULE>/; here, what a folder cannot say.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from test_rule_cases import CASES, run_case

from conftest import Invoke

# The workload rules: each judges one control of the standard, on the same workload.
WORKLOAD_RULES = tuple(f"MG6{n:02}" for n in range(1, 13))
WORKLOAD_VIOLATIONS = [
    folder
    for folder in CASES
    if folder.parent.name in WORKLOAD_RULES and folder.name.startswith("fail")
]


@pytest.mark.parametrize(
    "folder", WORKLOAD_VIOLATIONS, ids=[f"{f.parent.name}-{f.name}" for f in WORKLOAD_VIOLATIONS]
)
def test_each_violation_is_reported_by_its_rule_alone(
    folder: Path,
    invoke: Invoke,
    repo_copy: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, findings = run_case(folder, invoke, repo_copy, monkeypatch, select="MG6")
    assert sorted(findings) == [folder.parent.name], findings

"""A fresh repository of either engine validates clean, every object schema-checked with
the schemas meshgen ships; the mistakes they catch in the GitOps and cluster files are
MG304's cases (tests/rules/MG304/)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Invoke


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_a_fresh_repository_validates_clean_with_every_object_checked(
    engine: str, repo_copy: Callable[[str], Path], invoke: Invoke
) -> None:
    repo = repo_copy(engine)
    report = invoke(["-C", str(repo), "validate"]).stdout
    # No note either: a kind without a schema would be MG303.
    assert "0 errors, 0 warnings, 0 notes" in report, report

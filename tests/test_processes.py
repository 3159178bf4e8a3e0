"""External programs run with argument lists and timeouts, never through a shell."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from meshgen.errors import ToolError
from meshgen.tools import run

PACKAGE = Path(__file__).resolve().parents[1] / "generator" / "meshgen"


def test_no_module_starts_a_shell() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        if re.search(r"shell\s*=\s*True|os\.system\(|os\.popen\(", text):
            offenders.append(path.relative_to(PACKAGE).as_posix())
    assert offenders == []


def test_a_hanging_program_is_stopped_by_its_timeout() -> None:
    with pytest.raises(ToolError, match=r"no answer within 0.5s"):
        run(["sleep", "30"], timeout=0.5)


def test_a_missing_program_is_a_clear_error() -> None:
    with pytest.raises(ToolError, match="not found on PATH"):
        run(["meshgen-no-such-tool"])


def test_arguments_are_passed_verbatim_not_interpreted() -> None:
    result = run(["printf", "%s", "$(echo injected); rm -rf /"])
    assert result.stdout == "$(echo injected); rm -rf /"

"""The catalogue of bad inputs: each case folder under bad_inputs/ is one test.

A case folder holds `case.yaml`:

    about: what the user got wrong
    repo: argocd            # optional: run against a fresh generated repo ("argocd" or "flux")
    git: true               # optional: make that repo a git repository with one commit
    args: [validate, "{repo}"]   # {repo} and {tmp} are replaced by real paths
    stdin: "..."            # optional
    replace:                # optional edits to repo files before running
      - {file: environments/staging/first-app.yaml, old: "v2: 0", new: "v2: 10"}
    generate:               # optional generated files: {file, kind: huge|deep|alias-bomb}
    delete: [FILE, ...]     # optional repo files to remove before running
    exit: 1                 # the expected exit code
    contains: [MG110, "sum to 110"]   # words the output must contain
    unchanged: true         # optional: the repo's files must be exactly as before

and optionally `files/`, copied over the repo (or into {tmp}) before running, for inputs
that are easiest written out (binary or non-UTF-8 content among them).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import Invoke
from helpers import apply_case_edits, copy_case_files
from meshgen import vcs, yamlio

CASES_DIR = Path(__file__).resolve().parent / "bad_inputs"
CASES = sorted(p for p in CASES_DIR.iterdir() if (p / "case.yaml").is_file())


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def _generated_content(kind: str) -> bytes:
    if kind == "huge":
        return b"a: '" + b"x" * (yamlio.MAX_FILE_BYTES + 16) + b"'\n"
    if kind == "deep":
        return b"[" * 5000 + b"]" * 5000 + b"\n"
    if kind == "alias-bomb":
        lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 9)]
        return ("\n".join(lines) + "\n").encode()
    raise AssertionError(f"unknown generated content {kind!r}")


def test_the_catalogue_is_large_enough() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case_dir", CASES, ids=[p.name for p in CASES])
def test_bad_input(
    case_dir: Path, tmp_path: Path, invoke: Invoke, repo_copy: Callable[[str], Path]
) -> None:
    case: dict[str, Any] = yaml.safe_load((case_dir / "case.yaml").read_text())
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    root = repo_copy(case["repo"]) if case.get("repo") else scratch
    copy_case_files(case_dir, root)
    if case.get("git"):
        vcs.init_and_commit(root, "Initial commit")
    apply_case_edits(case, root)
    for generated in case.get("generate", []):
        (root / generated["file"]).write_bytes(_generated_content(generated["kind"]))
    before = _snapshot(root)

    args = [
        str(a).replace("{repo}", str(root)).replace("{tmp}", str(scratch)) for a in case["args"]
    ]
    result = invoke(args, input=case.get("stdin"), expect=case["exit"])

    output = result.stdout + result.stderr
    for words in case["contains"]:
        assert words in output, f"{case_dir.name}: {words!r} missing from:\n{output}"
    assert "Traceback" not in output
    if case["exit"] == 2:
        assert result.stderr.startswith("meshgen: error: "), result.stderr
    if case.get("unchanged"):
        assert _snapshot(root) == before, f"{case_dir.name}: files changed"

"""The catalogue of bad inputs: each case folder under bad_inputs/ is one test.

A case folder holds `case.yaml`:

    about: what the user got wrong
    repo: argocd            # optional: run against a fresh generated repo ("argocd" or "flux")
    git: true               # optional: make that repo a git repository with one commit
    args: [validate, "{repo}"]   # {repo} and {tmp} are replaced by real paths
    stdin: "..."            # optional
    replace:                # optional edits to repo files before running
      - {file: environments/staging/first-app.yaml, old: "v2: 0", new: "v2: 10"}
                            # ({long} in `new` stands for a 100,000-character value)
    generate:               # optional generated files: {file, kind: huge|deep|alias-bomb|comments},
                            # or special ones: {file, kind: link, target: PATH} (PATH may use
                            # {tmp}, {secret}, a file outside holding SECRET, and {outside},
                            # its folder, which holds a first-app.yaml too), {file, kind:
                            # fifo}, {file, kind: device} (/dev/zero's node; needs root)
    stdin_kind: huge        # optional: standard input larger than meshgen reads
    delete: [FILE, ...]     # optional repo files to remove before running
    exit: 1                 # the expected exit code
    contains: [MG110, "sum to 110"]   # words the output must contain
    absent: [SECRET]        # optional words the output must not contain
    unchanged: true         # optional: the repo's files must be exactly as before

and optionally `files/`, copied over the repo (or into {tmp}) before running, for inputs
that are easiest written out (binary or non-UTF-8 content among them).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import Invoke
from helpers import apply_case_edits, copy_case_files
from meshgen import yamlio
from meshgen.git.commit import init_and_commit

CASES_DIR = Path(__file__).resolve().parent / "bad_inputs"
CASES = sorted(p for p in CASES_DIR.iterdir() if (p / "case.yaml").is_file())
# Content of a file outside the repository that links try to reach: it must never show.
SECRET = "root:x:0:0:SECRET-CONTENT-OUTSIDE-THE-REPOSITORY"
LONG_VALUE = "z" * 100_000
# Every message fits on a line a person reads: no value is echoed whole.
MAX_LINE_CHARS = 600


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
    if kind == "comments":
        return b"#\n" * (yamlio.MAX_FILE_BYTES // 2 - 8)
    if kind == "alias-bomb":
        lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 9)]
        return ("\n".join(lines) + "\n").encode()
    raise AssertionError(f"unknown generated content {kind!r}")


def test_the_catalogue_is_large_enough() -> None:
    assert len(CASES) >= 40


def _generate(path: Path, generated: dict[str, Any], scratch: Path, secret: Path) -> None:
    kind = generated["kind"]
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
    if kind == "link":
        target = str(generated["target"]).replace("{tmp}", str(scratch))
        target = target.replace("{outside}", str(secret.parent))
        path.symlink_to(target.replace("{secret}", str(secret)))
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        if os.geteuid() != 0:
            pytest.skip("creating a device node needs root")
        os.mknod(path, 0o644 | 0o020000, os.makedev(1, 5))
    else:
        path.write_bytes(_generated_content(kind))


@pytest.mark.parametrize("case_dir", CASES, ids=[p.name for p in CASES])
def test_bad_input(
    case_dir: Path,
    tmp_path: Path,
    invoke: Invoke,
    repo_copy: Callable[[str], Path],
    no_hang: None,
) -> None:
    case: dict[str, Any] = yaml.safe_load((case_dir / "case.yaml").read_text())
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    root = repo_copy(case["repo"]) if case.get("repo") else scratch
    copy_case_files(case_dir, root)
    if case.get("git"):
        init_and_commit(root, "Initial commit")
    apply_case_edits(_with_long_values(case), root)
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text(SECRET + "\n")
    (secret.parent / "first-app.yaml").write_text(SECRET + "\n")
    for generated in case.get("generate", []):
        _generate(root / generated["file"], generated, scratch, secret)
    before = _snapshot(root)

    args = [
        str(a).replace("{repo}", str(root)).replace("{tmp}", str(scratch)) for a in case["args"]
    ]
    stdin = case.get("stdin")
    if case.get("stdin_kind") == "huge":
        stdin = "# padding\n" * (yamlio.MAX_FILE_BYTES // 10 + 16)
    result = invoke(args, input=stdin, expect=case["exit"])

    output = result.stdout + result.stderr
    for words in case["contains"]:
        assert words in output, f"{case_dir.name}: {words!r} missing from:\n{output}"
    for words in [SECRET, *case.get("absent", [])]:
        assert words not in output, f"{case_dir.name}: {words!r} leaked into:\n{output}"
    assert "Traceback" not in output
    assert len(result.stderr.splitlines()) <= 1, f"{case_dir.name}: stderr:\n{result.stderr}"
    longest = max((len(line) for line in output.splitlines()), default=0)
    assert longest <= MAX_LINE_CHARS, f"{case_dir.name}: a {longest}-character line"
    if case["exit"] == 2:
        assert result.stderr.startswith("meshgen: error: "), result.stderr
    if case.get("unchanged"):
        assert _snapshot(root) == before, f"{case_dir.name}: files changed"


def _with_long_values(case: dict[str, Any]) -> dict[str, Any]:
    """The case with `{long}` in its replacements spelt out (too long to write in YAML)."""
    edits = [
        {**edit, "new": edit["new"].replace("{long}", LONG_VALUE)}
        for edit in case.get("replace", [])
    ]
    return {**case, "replace": edits}

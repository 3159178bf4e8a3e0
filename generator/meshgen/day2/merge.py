"""Three-way merges of one file, as git does them (`git merge-file`)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from meshgen.errors import ToolError
from meshgen.tools import run


@dataclass(frozen=True)
class Merged:
    text: str
    conflicts: int


def merge_text(ours: str, base: str, theirs: str, *, labels: tuple[str, str, str]) -> Merged:
    """`theirs`' changes since `base`, carried into `ours`; overlapping changes are left
    as conflict markers (`<<<<<<< ours-label` ...), never resolved silently."""
    if ours == base:
        return Merged(theirs, 0)
    if theirs in (base, ours):
        return Merged(ours, 0)
    with tempfile.TemporaryDirectory(prefix="meshgen-merge-") as folder:
        paths = []
        for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(folder) / name
            path.write_text(text, encoding="utf-8")
            paths.append(str(path))
        command = ["git", "merge-file", "-p"]
        for label in labels:
            command += ["-L", label]
        result = run([*command, *paths], check=False)
    # git merge-file exits with the number of conflicts, or a negative (>127) on error.
    if result.returncode < 0 or result.returncode > 127:
        raise ToolError(command, result.stderr.strip() or "failed", returncode=result.returncode)
    return Merged(result.stdout, result.returncode)

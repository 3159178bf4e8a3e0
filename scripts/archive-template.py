"""Pack an earlier template version from git into the archive meshgen ships.

    python scripts/archive-template.py 1

reads cookiecutter-template/, charts/ and environments/ at the commit that last wrote
that version (meshgen.day2.archive.RELEASED) and writes
generator/meshgen/day2/archives/template-<N>.tar.gz. tests/test_update.py checks that the
shipped archive is what this script produces.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "generator"))

from meshgen.day2.archive import RELEASED, TREES, archive_path, pack  # noqa: E402


def files_at(commit: str) -> list[tuple[str, bytes, bool]]:
    listing = subprocess.run(
        ["git", "-C", str(ROOT), "ls-tree", "-r", "-z", commit, "--", *TREES],
        capture_output=True,
        check=True,
    ).stdout.decode()
    files = []
    for entry in filter(None, listing.split("\0")):
        meta, path = entry.split("\t", 1)
        mode, kind, sha = meta.split()
        if kind != "blob":
            continue
        content = subprocess.run(
            ["git", "-C", str(ROOT), "cat-file", "blob", sha], capture_output=True, check=True
        ).stdout
        files.append((path, content, mode == "100755"))
    return files


def build(version: int) -> bytes:
    return pack(files_at(RELEASED[version]))


def main() -> None:
    version = int(sys.argv[1])
    target = archive_path(version)
    target.write_bytes(build(version))
    print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

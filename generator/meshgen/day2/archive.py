"""The archives of earlier template versions, which `meshgen update` renders as the base.

Template version N is the `cookiecutter-template/`, `charts/` and `environments/` trees of
the meshgen release that last wrote it, packed reproducibly (sorted members, no times,
no owners) so that `scripts/archive-template.py` rebuilds the shipped file byte for byte.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Iterable
from pathlib import Path

ARCHIVE_DIR = Path(__file__).resolve().parent / "archives"
TREES = ("cookiecutter-template", "charts", "environments")
# Template version -> the commit of meshgen that generated it last.
RELEASED = {1: "b451f70"}


def archive_path(version: int) -> Path:
    return ARCHIVE_DIR / f"template-{version}.tar.gz"


def pack(files: Iterable[tuple[str, bytes, bool]]) -> bytes:
    """A gzipped tar of (path, content, executable) entries, identical for identical input."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content, executable in sorted(files):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = 0o755 if executable else 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(content))
    packed = io.BytesIO()
    with gzip.GzipFile(fileobj=packed, mode="wb", mtime=0, filename="") as zipped:
        zipped.write(raw.getvalue())
    return packed.getvalue()


def unpack(version: int, dest: Path) -> Path:
    """Extract template `version` into `dest`; returns `dest`."""
    with tarfile.open(archive_path(version), mode="r:gz") as tar:
        tar.extractall(dest, filter="data")
    return dest

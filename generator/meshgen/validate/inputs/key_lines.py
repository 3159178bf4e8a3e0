"""Lines of keys in a static file, for findings about one key of a document."""

from __future__ import annotations

from pathlib import Path

from meshgen import yamlio
from meshgen.errors import ConfigError
from meshgen.validate.findings import STDIN_NAME
from meshgen.yaml_lines import DocumentLines


class KeyLines:
    """Lines of keys in a static file, found only when a finding needs one.

    Static files are parsed without line numbers (fast, and nearly always clean), so the
    document holding the key is composed again, from its first line, to point at it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lines: DocumentLines | None = None
        self._unreadable = path == Path(STDIN_NAME)

    def line(self, first_line: int, key_path: tuple[str | int, ...]) -> int:
        lines = self._read()
        return first_line if lines is None else lines.line(first_line, key_path)

    def _read(self) -> DocumentLines | None:
        if self._lines is None and not self._unreadable:
            try:
                self._lines = DocumentLines(yamlio.read_text(self.path))
            except ConfigError:
                self._unreadable = True
        return self._lines

"""A progress line for long commands, on a terminal only."""

from __future__ import annotations

from typing import TextIO


class Progress:
    """`rendering staging (3/40)` on one self-erasing line, only when stderr is a terminal.

    Reports go to stdout; keeping progress on stderr and off when it is not a TTY keeps
    CI logs and redirected reports clean.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = bool(getattr(stream, "isatty", lambda: False)())
        self._width = 0

    def __call__(self, environment: str, done: int, total: int) -> None:
        self.show(f"rendering {environment} ({done}/{total})")

    def show(self, what: str) -> None:
        if not self.enabled:
            return
        line = f"meshgen: {what}"
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()
        self._width = max(self._width, len(line))

    def clear(self) -> None:
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0

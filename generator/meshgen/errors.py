"""The exceptions meshgen raises on purpose.

Every error a user can cause or fix derives from `UserError`; the CLI turns it into one
line on stderr and exit code 2. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path


class MeshgenError(Exception):
    """Base of every error meshgen raises deliberately."""

    exit_code = 2


class UserError(MeshgenError):
    """Something the user can fix: the message says what and how."""


class ConfigError(UserError):
    """An answer, option or file content is not acceptable."""

    def __init__(self, message: str, *, path: Path | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        super().__init__(message)

    def __str__(self) -> str:
        message = super().__str__()
        if self.path is None:
            return message
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {message}"


class TemplateError(UserError):
    """A chart or repository template could not be rendered."""


class GitError(UserError):
    """A git operation was refused or failed."""


class ToolError(UserError):
    """An external tool (helm, kubectl, git) failed or could not be run."""

    def __init__(self, command: list[str], message: str, *, returncode: int | None = None) -> None:
        self.command = command
        self.returncode = returncode
        detail = f" (exit {returncode})" if returncode is not None else ""
        super().__init__(f"{command[0]}{detail}: {message}")

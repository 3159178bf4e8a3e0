"""Running external programs: argument lists, a timeout, never a shell."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence

from meshgen.errors import ToolError

DEFAULT_TIMEOUT_SECONDS = 60


def run(
    command: Sequence[str],
    *,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    input_text: str | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run `command`; a missing program, a timeout or (with `check`) a failure is a ToolError."""
    argv = list(command)
    if shutil.which(argv[0]) is None:
        raise ToolError(argv, "not found on PATH; install it or adjust PATH")
    try:
        result = subprocess.run(
            argv,
            input=input_text,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=dict(env) if env is not None else None,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ToolError(argv, f"no answer within {timeout:g}s; gave up") from None
    except OSError as exc:
        raise ToolError(argv, str(exc)) from None
    if check and result.returncode != 0:
        detail = " ".join(result.stderr.split()) or " ".join(result.stdout.split())
        raise ToolError(argv, detail or "failed", returncode=result.returncode)
    return result

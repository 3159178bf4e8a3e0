"""Choose the Helm backend: an explicit binary, else the embedded SDK."""

from __future__ import annotations

import shutil
from pathlib import Path

from meshgen.errors import ToolError
from meshgen.helm.base import HelmBackend, Limits

ENV_HELM_BINARY = "MESHGEN_HELM"

# The run's limits, set once from the command line (a Limits is immutable).
_chosen: dict[str, Limits] = {}


def prepare(limits: Limits) -> None:
    """Set the limits of this run's renders (the SDK's worker starts with the first one)."""
    _chosen["limits"] = limits


def stop_renders() -> None:
    """Stop every render in progress, with either backend: the command was interrupted.

    A render thread blocked on Helm then returns at once (with an error nobody reads),
    instead of holding the interpreter's exit until the render's time limit.
    """
    from meshgen.helm import bounded, isolation

    isolation.stop_workers()
    bounded.stop_all()


def select_backend(helm_binary: str | None = None) -> HelmBackend:
    """`helm_binary` names a helm executable; otherwise the SDK is used.

    The command line reads $MESHGEN_HELM (ENV_HELM_BINARY) into `helm_binary`.
    """
    chosen = helm_binary
    if chosen:
        found = shutil.which(chosen)
        if found is None:
            raise ToolError([chosen], "helm binary not found or not executable")
        from meshgen.helm.binary import BinaryHelm

        return BinaryHelm(Path(found), _chosen.get("limits"))
    from meshgen.helm.sdk import EmbeddedHelm

    return EmbeddedHelm(_chosen.get("limits"))

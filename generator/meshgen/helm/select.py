"""Choose the Helm backend: an explicit binary, else the embedded SDK."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from meshgen.errors import ToolError
from meshgen.helm.base import HelmBackend, Limits

ENV_HELM_BINARY = "MESHGEN_HELM"

# The run's limits, set once from the command line (a Limits is immutable).
_chosen: dict[str, Limits] = {}


def prepare(helm_binary: str | None, limits: Limits) -> None:
    """Set the limits of this run's renders; for the SDK, start its worker process now.

    Called as soon as the command line is parsed: the worker loads Python and the Helm
    SDK while meshgen imports the rest of itself.
    """
    _chosen["limits"] = limits
    if not (helm_binary or os.environ.get(ENV_HELM_BINARY)):
        from meshgen.helm.isolation import prestart

        prestart()


def select_backend(helm_binary: str | None = None) -> HelmBackend:
    """`helm_binary` (or $MESHGEN_HELM) names a helm executable; otherwise the SDK is used."""
    chosen = helm_binary or os.environ.get(ENV_HELM_BINARY)
    if chosen:
        found = shutil.which(chosen)
        if found is None:
            raise ToolError([chosen], "helm binary not found or not executable")
        from meshgen.helm.binary import BinaryHelm

        return BinaryHelm(Path(found), _chosen.get("limits"))
    from meshgen.helm.sdk import EmbeddedHelm

    return EmbeddedHelm(_chosen.get("limits"))

"""Choose the Helm backend: an explicit binary, else the embedded SDK."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from meshgen.errors import ToolError
from meshgen.helm.base import HelmBackend

ENV_HELM_BINARY = "MESHGEN_HELM"


def select_backend(helm_binary: str | None = None) -> HelmBackend:
    """`helm_binary` (or $MESHGEN_HELM) names a helm executable; otherwise the SDK is used."""
    chosen = helm_binary or os.environ.get(ENV_HELM_BINARY)
    if chosen:
        found = shutil.which(chosen)
        if found is None:
            raise ToolError([chosen], "helm binary not found or not executable")
        from meshgen.helm.binary import BinaryHelm

        return BinaryHelm(Path(found))
    from meshgen.helm.sdk import EmbeddedHelm

    return EmbeddedHelm()

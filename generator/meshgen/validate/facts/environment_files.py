"""The weights of the environment files, as the weight rules read them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from meshgen.validate.context import ValidationContext
from meshgen.validate.inputs.repo_files import EnvironmentFileRef


def weight_maps(
    ctx: ValidationContext,
) -> Iterator[tuple[EnvironmentFileRef, Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]]]:
    """Each readable environment file with its `versions:` and `traffic:` maps, if both are maps."""
    for ref in ctx.environment_files:
        data = ref.file.data
        if ref.file.error is not None or not isinstance(data, Mapping):
            continue
        versions = data.get("versions")
        traffic = data.get("traffic")
        if isinstance(versions, Mapping) and isinstance(traffic, Mapping):
            yield ref, data, versions, traffic

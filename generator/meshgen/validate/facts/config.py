"""What the rules read from the config, meshgen.yaml, beyond the repo model."""

from __future__ import annotations

from collections.abc import Mapping

from meshgen import yamlio
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_list, as_map


def environment_line(ctx: ValidationContext, name: str) -> int | None:
    """The line of environment `name` under `environments:`, else of that key."""
    data = as_map(ctx.config.data)
    for entry in as_list(data.get("environments")):
        if isinstance(entry, Mapping) and entry.get("name") == name:
            return yamlio.line_of(entry)
    return yamlio.line_of(data, "environments")

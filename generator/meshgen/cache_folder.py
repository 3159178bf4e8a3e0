"""Where meshgen keeps what it remembers across runs (see docs/decisions.md).

The command line passes its environment: below it, meshgen reads no variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

ENV_NO_CACHE = "MESHGEN_NO_CACHE"
ENV_CACHE_DIR = "MESHGEN_CACHE_DIR"


def base_folder(environ: Mapping[str, str]) -> Path:
    """$MESHGEN_CACHE_DIR, else `meshgen` in the XDG cache folder (~/.cache)."""
    explicit = environ.get(ENV_CACHE_DIR)
    if explicit:
        return Path(explicit)
    xdg = environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "meshgen"


def cache_root(environ: Mapping[str, str]) -> Path | None:
    """meshgen's cache folder (see base_folder); None when $MESHGEN_NO_CACHE is set."""
    return None if environ.get(ENV_NO_CACHE) else base_folder(environ)


def template_cache(environ: Mapping[str, str]) -> Path | None:
    """Where compiled templates are kept (see scaffold.compiled); None without a cache."""
    root = cache_root(environ)
    return root / "templates" if root is not None else None

"""What one validation run is asked to do: a frozen record the CLI fills and the engine reads."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from meshgen.kubectl import DryRunOptions
    from meshgen.validate.findings import Rule

# Called as rendering proceeds: (environment, done, total).
ProgressCallback = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ValidateOptions:
    """Options of a run. `files` switches to plain-object mode: no config, no Helm.

    `rules`, when given, is the exact rule list; otherwise `select`/`ignore` choose.
    `schema_locations` are CRD schema locations (see schemas.crd); None means the
    repository's own schema folder. `dry_run` asks for `kubectl apply --dry-run`.
    `base_ref` names the ref the guard rails compare with, when given.
    """

    environments: Sequence[str] = ()
    files: Sequence[str] = ()
    rules: Sequence[Rule] | None = None
    select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    schema_locations: Sequence[str] | None = None
    schema_cache: Path | None = None
    verdict_cache: Path | None = None
    """Where objects known to pass their schema are remembered (None: not across runs)."""
    parse_cache: Path | None = None
    """Where plain YAML files' documents are remembered by content (None: not at all)."""
    kubernetes_version: str | None = None
    dry_run: DryRunOptions | None = None
    base_ref: str | None = None
    progress: ProgressCallback | None = None
    mesh_config: Path | None = None
    """Plain-object mode: the MeshConfig (or `istio` ConfigMap) the objects run under."""
    default_gateway: bool = True
    """Plain-object mode: assume istioctl's default ingress gateway unless the input has one."""

    @property
    def files_mode(self) -> bool:
        return bool(self.files)

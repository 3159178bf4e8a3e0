"""A planned step against the guard rails of meshgen.yaml."""

from __future__ import annotations

from dataclasses import replace

from meshgen import yamlio
from meshgen.errors import ConfigError
from meshgen.repo import Repo
from meshgen.traffic import guardrails
from meshgen.traffic.envfile import EnvFile
from meshgen.traffic.steps.edit import Edit, int_weights


def load_guardrails(repo: Repo) -> guardrails.Guardrails:
    return guardrails.from_manifest(yamlio.load_roundtrip(repo.manifest_path))


def check_guardrails(edit: Edit, *, force: bool) -> Edit:
    """Raise GuardrailError for a change the guard rails forbid, unless `force`."""
    target = edit.target
    rails = load_guardrails(target.repo)
    if not rails.enabled:
        return edit
    previous = rails.previous(target.environment)
    previous_before: dict[str, int] | None = None
    if previous is not None:
        path = target.repo.overlay_path(previous, target.app)
        if path.is_file():
            try:
                previous_before = int_weights(EnvFile.read(path).raw_traffic)
            except ConfigError:
                previous_before = None
    violations = guardrails.check_change(
        rails, target.environment, edit.before, edit.after, previous_before
    )
    if not violations:
        return edit
    if not force:
        env = EnvFile.parse(edit.old_text, target.path)
        line = env.weight_line(violations[0].version)
        where = f"{target.path}:{line}" if line else str(target.path)
        raise guardrails.GuardrailError(where, violations)
    return replace(edit, overridden=tuple(violations))

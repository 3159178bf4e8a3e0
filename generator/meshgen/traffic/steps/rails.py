"""A planned step against the guard rails of meshgen.yaml."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from meshgen.errors import ConfigError
from meshgen.repo import Repo
from meshgen.traffic import guardrails
from meshgen.traffic.envfile import EnvFile
from meshgen.traffic.steps.edit import Edit


def load_guardrails(repo: Repo) -> guardrails.Guardrails:
    return guardrails.read(repo.manifest_path)


def check_guardrails(edit: Edit, *, force: bool, base_ref: str | None = None) -> Edit:
    """Raise GuardrailError for a change the guard rails forbid, unless `force`.

    Measured as `meshgen validate` measures it (see traffic.guardrails): from the files at
    the base (`base_ref`, else the base branch), else, where there is none, from the file
    on disk.
    """
    target = edit.target
    rails = load_guardrails(target.repo)
    if not rails.enabled:
        return edit
    baseline = guardrails.find_baseline(target.repo.root, rails, base_ref)
    previous = rails.previous(target.environment)
    previous_path = target.repo.environment_file_path(previous, target.app) if previous else None
    if isinstance(baseline, guardrails.Baseline):
        measured_against = str(baseline)
        before = guardrails.weights_at(target.repo.root, baseline.commit, target.path)
        previous_before = (
            guardrails.weights_at(target.repo.root, baseline.commit, previous_path)
            if previous_path
            else None
        )
    else:
        measured_against = f"the files on disk ({baseline})"
        before = dict(edit.before)
        previous_before = _weights_on_disk(previous_path)
    # A file new since the base deploys nothing yet: there is no step to measure.
    violations = (
        guardrails.check_change(rails, target.environment, before, edit.after, previous_before)
        if before is not None
        else []
    )
    if isinstance(baseline, guardrails.Baseline):
        # Overridden on this branch already (a `Meshgen-Override:` trailer), as validate sees it.
        violations = [v for v in violations if v.rule_id not in baseline.overrides]
    if not violations:
        return edit
    if not force:
        env = EnvFile.parse(edit.old_text, target.path)
        line = env.weight_line(violations[0].version)
        where = f"{target.path}:{line}" if line else str(target.path)
        raise guardrails.GuardrailError(where, violations, measured_against)
    return replace(edit, overridden=tuple(violations))


def _weights_on_disk(path: Path | None) -> dict[str, int] | None:
    if path is None or not path.is_file():
        return None
    try:
        return EnvFile.read(path).whole_weights()
    except ConfigError:
        return None

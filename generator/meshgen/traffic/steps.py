"""Canary steps: plan an edit of one environment file, check it, write it, commit it.

Every step is planned in memory first (`plan_*`), checked against the weight rules and
the guard rails, and only then written (atomically) and, when asked, committed on its
own branch. A refused step changes neither the file nor the repository.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from meshgen import vcs, yamlio
from meshgen.credentials import credential_in_text
from meshgen.errors import ConfigError, GitError
from meshgen.repo import Repo, load_repo
from meshgen.traffic import guardrails
from meshgen.traffic.envfile import EnvFile
from meshgen.traffic.weights import TOTAL, weight_problems

ENV_BASE_REF = "MESHGEN_BASE_REF"
_VERSION_NAME = re.compile(r"^[a-z][-a-z0-9]*$")
_ASSIGNMENT = re.compile(r"^([^=\s]+)=(.*)$")
# The grammar of docker/distribution references: what a registry accepts.
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_IMAGE_REPOSITORY = re.compile(
    r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\.[a-z0-9-]+)*(?::[0-9]+)?"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)


def _refuse_credential(option: str, value: str) -> None:
    """An environment file is read by everyone with access to the repo: no secrets in it."""
    what = credential_in_text(value)
    if what is not None:
        raise ConfigError(
            f"{option}: the value looks like {what}; meshgen does not write credentials "
            "into environment files (keep them in a secret store)"
        )


@dataclass(frozen=True)
class Target:
    """The environment file of one app in one environment."""

    repo: Repo
    environment: str
    app: str
    path: Path

    @property
    def label(self) -> str:
        """How messages name it: the environment, and the app when the repo has several."""
        return self.environment if len(self.repo.apps) == 1 else f"{self.environment}/{self.app}"

    @property
    def relpath(self) -> str:
        return self.path.relative_to(self.repo.root).as_posix()


def locate(repo_path: Path, environment: str, app: str | None = None) -> Target:
    repo = load_repo(repo_path)
    env = repo.environment(environment)
    chosen = repo.app(app)
    path = repo.overlay_path(env.name, chosen.name)
    if not path.is_file():
        raise ConfigError(
            f"environment {env.name!r} has no file for {chosen.name}; create "
            f"{path.relative_to(repo.root).as_posix()} (copy another environment's file)",
            path=path,
        )
    return Target(repo, env.name, chosen.name, path)


@dataclass(frozen=True)
class Edit:
    """A planned change of one environment file, not yet written."""

    target: Target
    old_text: str
    new_text: str
    before: Mapping[str, int]
    after: Mapping[str, int]
    command: str
    subject: str
    overridden: tuple[guardrails.Violation, ...] = ()

    @property
    def changed(self) -> bool:
        return self.old_text != self.new_text


def weight_changes(before: Mapping[str, int], after: Mapping[str, int]) -> list[str]:
    """`v1 100% -> 90%` for each version whose weight differs, in file order."""
    changes = []
    for version in dict.fromkeys([*before, *after]):
        old, new = before.get(version), after.get(version)
        if old != new:
            shown_old = "-" if old is None else f"{old}%"
            shown_new = "-" if new is None else f"{new}%"
            changes.append(f"{version} {shown_old} -> {shown_new}")
    return changes


def parse_assignments(items: Sequence[str]) -> dict[str, int]:
    """`["v1=90", "v2=10"]` as weights; malformed, negative or fractional ones are refused."""
    if not items:
        raise ConfigError("give at least one VERSION=WEIGHT, for example v1=90 v2=10")
    weights: dict[str, int] = {}
    for item in items:
        match = _ASSIGNMENT.match(item)
        if match is None:
            raise ConfigError(f"{item!r} is not VERSION=WEIGHT, for example v2=10")
        version, raw = match.group(1), match.group(2).strip()
        if version in weights:
            raise ConfigError(f"{version} is given twice; give each version once")
        if not re.fullmatch(r"[0-9]+", raw):
            raise ConfigError(f"weight of {version} must be a whole number 0..{TOTAL}, got {raw!r}")
        weight = int(raw)
        if weight > TOTAL:
            raise ConfigError(f"weight of {version} must be 0..{TOTAL}, got {weight}")
        weights[version] = weight
    return weights


def _command(*parts: str) -> str:
    return " ".join(shlex.quote(part) for part in ("meshgen", *parts))


def _app_args(target: Target) -> list[str]:
    return ["--app", target.app] if len(target.repo.apps) > 1 else []


def _int_weights(raw: Mapping[str, object]) -> dict[str, int]:
    return {k: v for k, v in raw.items() if isinstance(v, int) and not isinstance(v, bool)}


def _unknown_version(
    target: Target, env: EnvFile, version: str, *, retiring: bool = False
) -> ConfigError:
    known = ", ".join(env.version_names) or "none"
    # A typo ("V1", "v11") is as likely as a release not yet added; a name that cannot
    # be a version, or one being retired, is never worth adding.
    close = _closest(version, env.version_names)
    guess = f"did you mean {' or '.join(close)}?" if close else ""
    if retiring or not _VERSION_NAME.match(version):
        advice = guess or ("nothing to retire" if retiring else "names are lowercase, as v2")
    else:
        add = f"`meshgen versions add {target.environment} {version} --image-tag TAG`"
        advice = (
            f"{guess} If it is new, add it first with {add}"
            if guess
            else f"add it first with {add}"
        )
    return ConfigError(
        f"{target.label} has no version {version} (versions: {known}); {advice}",
        path=env.path,
        line=yamlio.line_of(env.tree, "versions"),
    )


def _closest(word: str, candidates: Sequence[str]) -> list[str]:
    """The candidates most like `word` (ignoring case), all of them when equally close."""
    ratios = {
        name: difflib.SequenceMatcher(None, word.lower(), name.lower()).ratio()
        for name in candidates
    }
    best = max(ratios.values(), default=0.0)
    return [name for name, ratio in ratios.items() if ratio == best] if best >= 0.5 else []


def _check_weights(
    target: Target, env: EnvFile, versions: Sequence[str], traffic: Mapping[str, object]
) -> None:
    problems = weight_problems(versions, traffic)
    if problems:
        first = problems[0]
        line = env.weight_line(first.version) if first.version else env.weight_line("")
        listed = "; ".join(p.message for p in problems)
        raise ConfigError(f"refused, nothing changed: {listed}", path=env.path, line=line)


def _finish(
    target: Target,
    env: EnvFile,
    new_text: str,
    after_versions: Sequence[str],
    after_traffic: Mapping[str, object],
    command: str,
    subject: str,
) -> Edit:
    _check_weights(target, env, after_versions, after_traffic)
    return Edit(
        target=target,
        old_text=env.text,
        new_text=new_text,
        before=_int_weights(env.raw_traffic),
        after=_int_weights(after_traffic),
        command=command,
        subject=subject,
    )


def _weights_subject(target: Target, before: Mapping[str, int], after: Mapping[str, int]) -> str:
    changes = weight_changes(before, after) or ["no change"]
    return f"{target.label}: {target.app} traffic " + ", ".join(changes)


def plan_set(target: Target, weights: Mapping[str, int]) -> Edit:
    env = EnvFile.read(target.path)
    for version in weights:
        if version not in env.version_names:
            raise _unknown_version(target, env, version)
    after_traffic = {**env.raw_traffic, **weights}
    new_text = env.with_weights(weights) if after_traffic != env.raw_traffic else env.text
    command = _command(
        "weights",
        "set",
        target.environment,
        *(f"{v}={w}" for v, w in weights.items()),
        *_app_args(target),
    )
    subject = _weights_subject(target, _int_weights(env.raw_traffic), _int_weights(after_traffic))
    return _finish(target, env, new_text, env.version_names, after_traffic, command, subject)


def shifted(weights: Mapping[str, int], to: str, step: int) -> dict[str, int]:
    """Move `step` points (at most up to 100) to `to`, taken from the versions with the
    most traffic first, so that a shift never empties one version while another keeps
    more than it."""
    after = dict(weights)
    amount = min(step, TOTAL - after.get(to, 0))
    after[to] = after.get(to, 0) + amount
    order = list(after)
    for _ in range(amount):
        donors = [v for v in order if v != to and after[v] > 0]
        if not donors:
            break
        donor = max(donors, key=lambda v: (after[v], -order.index(v)))
        after[donor] -= 1
    return after


def plan_shift(target: Target, to: str, step: int) -> Edit:
    if not 1 <= step <= TOTAL:
        raise ConfigError(f"--step must be 1..{TOTAL}, got {step}")
    env = EnvFile.read(target.path)
    if to not in env.version_names:
        raise _unknown_version(target, env, to)
    current = env.weights()
    if current.get(to, 0) >= TOTAL:
        raise ConfigError(
            f"{to} already has {TOTAL}% in {target.label}; nothing to shift",
            path=env.path,
            line=env.weight_line(to),
        )
    after = shifted(current, to, step)
    changed = {v: w for v, w in after.items() if current.get(v) != w}
    new_text = env.with_weights(changed)
    after_traffic = {**env.raw_traffic, **changed}
    command = _command(
        "shift", target.environment, "--to", to, "--step", str(step), *_app_args(target)
    )
    subject = _weights_subject(target, _int_weights(env.raw_traffic), after)
    return _finish(target, env, new_text, env.version_names, after_traffic, command, subject)


def plan_promote(target: Target, version: str) -> Edit:
    env = EnvFile.read(target.path)
    if version not in env.version_names:
        raise _unknown_version(target, env, version)
    weights = {name: (TOTAL if name == version else 0) for name in env.version_names}
    changed = {v: w for v, w in weights.items() if env.raw_traffic.get(v, 0) != w}
    new_text = env.with_weights(changed) if changed else env.text
    after_traffic = {**env.raw_traffic, **changed}
    command = _command("promote", target.environment, version, *_app_args(target))
    subject = _weights_subject(target, _int_weights(env.raw_traffic), weights)
    return _finish(target, env, new_text, env.version_names, after_traffic, command, subject)


def plan_add(
    target: Target,
    version: str,
    tag: str,
    repository: str | None = None,
    replicas: int | None = None,
) -> Edit:
    env = EnvFile.read(target.path)
    _refuse_credential("--image-tag", tag)
    if not _IMAGE_TAG.match(tag):
        raise ConfigError(
            f"--image-tag: {tag!r} is not an image tag (letters, digits, '_', '.', '-'; "
            "at most 128, not starting with '.' or '-'), e.g. 1.2.0"
        )
    model = env.version(env.version_names[-1]) if env.version_names else None
    chosen_repository = repository or (model.repository if model else "")
    if not chosen_repository:
        raise ConfigError("give the image with --image-repository, for example ghcr.io/acme/app")
    _refuse_credential("--image-repository", chosen_repository)
    if not _IMAGE_REPOSITORY.match(chosen_repository):
        raise ConfigError(
            f"--image-repository: {chosen_repository!r} is not an image repository, "
            "e.g. ghcr.io/acme/app"
        )
    chosen_replicas = replicas if replicas is not None else (model.replicas if model else None)
    new_text = env.with_version(version, chosen_repository, tag, chosen_replicas)
    after_traffic = {**env.raw_traffic, version: 0}
    command = _command(
        "versions",
        "add",
        target.environment,
        version,
        "--image-tag",
        tag,
        *(["--image-repository", repository] if repository else []),
        *_app_args(target),
    )
    subject = f"{target.label}: add {target.app} {version} ({chosen_repository}:{tag}) at 0%"
    return _finish(
        target, env, new_text, [*env.version_names, version], after_traffic, command, subject
    )


def plan_retire(target: Target, version: str) -> Edit:
    env = EnvFile.read(target.path)
    if version not in env.version_names:
        raise _unknown_version(target, env, version, retiring=True)
    weight = env.raw_traffic.get(version, 0)
    if weight != 0:
        others = [v for v in env.version_names if v != version]
        if others:
            advice = (
                f"move it to 0 first (for example `meshgen promote {target.environment} "
                f"{others[0]}`), then retire it"
            )
        else:
            advice = (
                "it is the only version; add its successor first (`meshgen versions add "
                f"{target.environment} VERSION --image-tag TAG`) and promote that"
            )
        raise ConfigError(
            f"{version} still takes {weight}% of {target.label}'s traffic; {advice}",
            path=env.path,
            line=env.weight_line(version),
        )
    new_text = env.without_version(version)
    after_traffic = {k: v for k, v in env.raw_traffic.items() if k != version}
    command = _command("versions", "retire", target.environment, version, *_app_args(target))
    subject = f"{target.label}: retire {target.app} {version}"
    remaining = [v for v in env.version_names if v != version]
    return _finish(target, env, new_text, remaining, after_traffic, command, subject)


# -- guard rails ---------------------------------------------------------------------


def load_guardrails(repo: Repo) -> guardrails.Guardrails:
    return guardrails.from_manifest(yamlio.load_roundtrip(repo.manifest_path))


def check_guardrails(edit: Edit, *, force: bool) -> Edit:
    """Raise GuardrailError for a change the guard rails forbid, unless `force`.

    Measured as `meshgen validate` measures it (see traffic.guardrails): from the files at
    the base, else, where there is none, from the file on disk.
    """
    target = edit.target
    rails = load_guardrails(target.repo)
    if not rails.enabled:
        return edit
    baseline = guardrails.find_baseline(target.repo.root, rails, base_ref_from_environment())
    previous = rails.previous(target.environment)
    previous_path = target.repo.overlay_path(previous, target.app) if previous else None
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
        return _int_weights(EnvFile.read(path).raw_traffic)
    except ConfigError:
        return None


# -- writing and committing -------------------------------------------------------------


def commit_message(edit: Edit, subject: str | None = None) -> str:
    lines = [
        subject or edit.subject,
        "",
        "Made with:",
        "",
        f"    {edit.command}",
        "",
        f"Weights in {edit.target.relpath} after this commit:",
    ]
    lines.extend(f"  {version}: {weight}%" for version, weight in edit.after.items())
    if edit.overridden:
        lines += ["", "Guard rails overridden with --force:"]
        lines.extend(f"- {violation}" for violation in edit.overridden)
        lines += ["", guardrails.override_trailer(edit.overridden)]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Applied:
    edit: Edit
    written: bool
    commit: vcs.CommitResult | None = None


def apply(
    edit: Edit,
    *,
    commit: bool,
    branch: str | None = None,
    allow_dirty: bool = False,
    message: str | None = None,
) -> Applied:
    """Write the edit; with `commit`, on a new `branch` if given, commit only that file."""
    path = edit.target.path
    if yamlio.read_text(path) != edit.old_text:
        raise ConfigError("the file changed while meshgen was editing it; run again", path=path)
    if not commit:
        if edit.changed:
            yamlio.atomic_write_text(path, edit.new_text)
        return Applied(edit, written=edit.changed)
    if not edit.changed:
        raise GitError(
            f"nothing to commit: {edit.target.relpath} already has these values "
            f"({', '.join(f'{v}={w}' for v, w in edit.after.items())})"
        )
    plan = vcs.plan_commit(path, branch=branch, allow_dirty=allow_dirty)
    result = vcs.commit_file(
        plan,
        commit_message(edit, message),
        write=lambda: yamlio.atomic_write_text(path, edit.new_text),
        restore=lambda: yamlio.atomic_write_text(path, edit.old_text),
    )
    return Applied(edit, written=True, commit=result)


def base_ref_from_environment() -> str | None:
    return os.environ.get(ENV_BASE_REF) or None

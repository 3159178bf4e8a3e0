"""Steps that move traffic between existing versions: set, shift, promote."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from meshgen.environment_file import whole_weights
from meshgen.errors import ConfigError
from meshgen.traffic.envfile import EnvFile
from meshgen.traffic.steps.edit import (
    Edit,
    Target,
    app_args,
    command_line,
    finish,
    unknown_version,
    weight_changes,
)
from meshgen.traffic.weights import TOTAL

_ASSIGNMENT = re.compile(r"^([^=\s]+)=(.*)\Z")


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


def _subject(target: Target, before: Mapping[str, int], after: Mapping[str, int]) -> str:
    changes = weight_changes(before, after) or ["no change"]
    return f"{target.label}: {target.app} traffic " + ", ".join(changes)


def plan_set(target: Target, weights: Mapping[str, int]) -> Edit:
    env = EnvFile.read(target.path)
    for version in weights:
        if version not in env.version_names:
            raise unknown_version(target, env, version)
    after_traffic = {**env.raw_traffic, **weights}
    new_text = env.with_weights(weights) if after_traffic != env.raw_traffic else env.text
    command = command_line(
        "weights",
        "set",
        target.environment,
        *(f"{v}={w}" for v, w in weights.items()),
        *app_args(target),
    )
    subject = _subject(target, whole_weights(env.raw_traffic), whole_weights(after_traffic))
    return finish(target, env, new_text, env.version_names, after_traffic, command, subject)


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
        raise unknown_version(target, env, to)
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
    command = command_line(
        "shift", target.environment, "--to", to, "--step", str(step), *app_args(target)
    )
    subject = _subject(target, whole_weights(env.raw_traffic), after)
    return finish(target, env, new_text, env.version_names, after_traffic, command, subject)


def plan_promote(target: Target, version: str) -> Edit:
    env = EnvFile.read(target.path)
    if version not in env.version_names:
        raise unknown_version(target, env, version)
    weights = {name: (TOTAL if name == version else 0) for name in env.version_names}
    changed = {v: w for v, w in weights.items() if env.raw_traffic.get(v, 0) != w}
    new_text = env.with_weights(changed) if changed else env.text
    after_traffic = {**env.raw_traffic, **changed}
    command = command_line("promote", target.environment, version, *app_args(target))
    subject = _subject(target, whole_weights(env.raw_traffic), weights)
    return finish(target, env, new_text, env.version_names, after_traffic, command, subject)

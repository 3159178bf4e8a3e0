"""What a canary step edits (one app's environment file in one environment) and the
planned edit itself, shared by every kind of step."""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from meshgen import yamlio
from meshgen.environment_file import whole_weights
from meshgen.errors import ConfigError
from meshgen.repo import Repo, load_repo
from meshgen.traffic import guardrails
from meshgen.traffic.envfile import EnvFile
from meshgen.traffic.weights import weight_problems

_VERSION_NAME = re.compile(r"^[a-z][-a-z0-9]*\Z")


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
    path = repo.environment_file_path(env.name, chosen.name)
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


def command_line(*parts: str) -> str:
    """The meshgen command that makes a step, as a commit message quotes it."""
    return " ".join(shlex.quote(part) for part in ("meshgen", *parts))


def app_args(target: Target) -> list[str]:
    return ["--app", target.app] if len(target.repo.apps) > 1 else []


def unknown_version(
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


def _check_weights(env: EnvFile, versions: Sequence[str], traffic: Mapping[str, object]) -> None:
    problems = weight_problems(versions, traffic)
    if problems:
        first = problems[0]
        line = env.weight_line(first.version) if first.version else env.weight_line("")
        listed = "; ".join(p.message for p in problems)
        raise ConfigError(f"refused, nothing changed: {listed}", path=env.path, line=line)


def finish(
    target: Target,
    env: EnvFile,
    new_text: str,
    after_versions: Sequence[str],
    after_traffic: Mapping[str, object],
    command: str,
    subject: str,
) -> Edit:
    """The Edit from `env` to `new_text`, once its weights pass the weight rules."""
    _check_weights(env, after_versions, after_traffic)
    return Edit(
        target=target,
        old_text=env.text,
        new_text=new_text,
        before=whole_weights(env.raw_traffic),
        after=whole_weights(after_traffic),
        command=command,
        subject=subject,
    )

"""Carry the difference between two template renders into a repository, three-way.

`base` and `theirs` render the same template for the repository's answers before and
after a change (one environment more, a newer template); `ours` is the repository. A
file new in `theirs` is added, one gone from it is deleted, one changed in both is
merged with `git merge-file`, so the team's edits around the change stay.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from meshgen.day2.merge import merge_text
from meshgen.day2.templates import Tree
from meshgen.repo import Environment


@dataclass
class Carried:
    writes: dict[str, str] = field(default_factory=dict)
    deletes: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    kept_deleted: list[str] = field(default_factory=list)
    """Files the change would edit but that the team deleted: left deleted."""


def token(word: str) -> re.Pattern[str]:
    """`word` where it is a whole name: not inside a longer DNS label."""
    return re.compile(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])")


def localize(tree: Tree, project: str, environments: Iterable[Environment]) -> Tree:
    """The template names an environment's namespace and cluster after it; put the names
    the repository chose instead (`env add --namespace/--cluster`)."""
    result = dict(tree)
    for environment in environments:
        default_cluster = f"{project}-{environment.name}"
        replacements: list[tuple[re.Pattern[str], str]] = []
        if environment.cluster != default_cluster:
            replacements.append((token(default_cluster), environment.cluster))
        if environment.namespace != environment.name:
            # `namespace: qa`, `targetNamespace: qa`, and prose: "namespace `qa`".
            pattern = re.compile(
                rf"(\b(?:namespace|targetNamespace):?[ \t]+`?){re.escape(environment.name)}"
                r"(?![a-z0-9-])"
            )
            replacements.append((pattern, rf"\g<1>{environment.namespace}"))
        for pattern, replacement in replacements:
            result = {path: pattern.sub(replacement, text) for path, text in result.items()}
    return result


def for_app(tree: Tree, primary: str, app: str) -> Tree:
    """The files of `primary` (its name in their path), renamed for another app."""
    name = token(primary)
    return {
        name.sub(app, path): name.sub(app, text)
        for path, text in tree.items()
        if name.search(path) and not path.startswith(("charts/", "environments/"))
    }


def carry(
    root: Path,
    base: Mapping[str, str],
    theirs: Mapping[str, str],
    *,
    skip: tuple[str, ...],
    labels: tuple[str, str, str],
    into: Carried | None = None,
) -> Carried:
    """The writes and deletes that bring `theirs`' changes since `base` into `root`."""
    carried = into or Carried()
    for path in sorted({*base, *theirs}):
        if path.startswith(skip) or base.get(path) == theirs.get(path):
            continue
        target = root / path
        ours = target.read_text(encoding="utf-8") if target.is_file() else None
        new = theirs.get(path)
        old = base.get(path)
        if new is None:
            if ours is not None:
                carried.deletes.append(path)
        elif old is None or ours is None:
            if ours is None and old is not None:
                carried.kept_deleted.append(path)
            elif ours is None or ours == new:
                carried.writes[path] = new
            else:
                merged = merge_text(ours, "", new, labels=labels)
                carried.writes[path] = merged.text
                if merged.conflicts:
                    carried.conflicts.append(path)
        else:
            merged = merge_text(ours, old, new, labels=labels)
            carried.writes[path] = merged.text
            if merged.conflicts:
                carried.conflicts.append(path)
    return carried

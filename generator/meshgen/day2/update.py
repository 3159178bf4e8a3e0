"""`meshgen update`: bring a repository written by an earlier template to the current one.

Three-way, file by file: the base is the repository's template version rendered for its
recorded answers (meshgen ships each earlier version it supports, see `archive`), theirs
the current template rendered for the same answers, ours the repository. What the
template changed is carried in; what the team changed stays; where both changed the
same lines, git's conflict markers are left in the file and the file is listed, never
resolved silently.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from meshgen import TEMPLATE_VERSION, yamlio
from meshgen.day2 import recorded, templates
from meshgen.day2.apps import charts_for_app
from meshgen.day2.carry import carry, for_app, localize
from meshgen.day2.changes import Changeset, NothingToDo
from meshgen.environment_file import EnvironmentFile
from meshgen.errors import ConfigError
from meshgen.repo import ENVIRONMENTS_DIR, MANIFEST_NAME

# What runs, in an environment file: the team's, whatever the template's defaults say.
RUNNING_KEYS = ("versions", "traffic")


def _keep_running(root: Path, tree: templates.Tree) -> templates.Tree:
    """The render with each environment file's versions, images and weights taken from the
    repository: an update changes how things run, never what runs or with which traffic."""
    result = dict(tree)
    for path, text in tree.items():
        ours_path = root / path
        if not path.startswith(f"{ENVIRONMENTS_DIR}/") or not ours_path.is_file():
            continue
        try:
            ours = EnvironmentFile.read(ours_path).tree
            rendered = EnvironmentFile.parse(text, ours_path).tree
        except ConfigError:
            continue  # an unreadable file merges as text, and validate says why
        if not isinstance(ours, dict) or not isinstance(rendered, dict):
            continue
        for key in RUNNING_KEYS:
            if key in ours and key in rendered:
                rendered[key] = ours[key]
        result[path] = yamlio.dumps_roundtrip(rendered)
    return result


def plan_update(root: Path, *, template_cache: Path | None = None) -> Changeset | NothingToDo:
    state = recorded.read(root)
    version = state.template_version
    if version == TEMPLATE_VERSION:
        return NothingToDo(f"Already on template {version}; nothing to update.")
    if version > TEMPLATE_VERSION:
        raise ConfigError(
            f"the repository uses template {version}, newer than this meshgen's "
            f"{TEMPLATE_VERSION}; upgrade meshgen",
            path=state.repo.manifest_path,
        )
    answers = state.answers
    environments = state.repo.environments
    base = localize(templates.render(answers, version, template_cache), answers.name, environments)
    theirs = localize(
        templates.render(answers, TEMPLATE_VERSION, template_cache), answers.name, environments
    )
    labels = ("repository", f"template {version}", f"template {TEMPLATE_VERSION}")
    base, theirs = _keep_running(state.root, base), _keep_running(state.root, theirs)
    carried = carry(state.root, base, theirs, skip=(), labels=labels)
    for app in state.repo.apps[1:]:
        # Its wiring, and its chart when it is a copy of the first app's (`app add`).
        copied_chart = app.chart == f"charts/{app.name}"
        carry(
            state.root,
            for_app(base, answers.app_name, app.name)
            | (charts_for_app(base, answers.app_name, app.name) if copied_chart else {}),
            for_app(theirs, answers.app_name, app.name)
            | (charts_for_app(theirs, answers.app_name, app.name) if copied_chart else {}),
            skip=(),
            labels=labels,
            into=carried,
        )
    writes = dict(carried.writes)
    if MANIFEST_NAME not in carried.conflicts:
        manifest_text = writes.get(MANIFEST_NAME) or yamlio.read_text(state.repo.manifest_path)
        tree = yamlio.loads_roundtrip(manifest_text, state.repo.manifest_path)
        tree["meshgen"]["template"] = TEMPLATE_VERSION
        writes[MANIFEST_NAME] = yamlio.dumps_roundtrip(tree)
    notes = [f"left deleted (removed by hand): {path}" for path in carried.kept_deleted]
    notes += [f"conflict: {path}" for path in carried.conflicts]
    return Changeset(
        root=state.root,
        subject=f"Update to template {TEMPLATE_VERSION} (from {version})",
        command=shlex.join(["meshgen", "update"]),
        writes=writes,
        deletes=tuple(carried.deletes),
        conflicts=tuple(carried.conflicts),
        notes=tuple(notes),
    )

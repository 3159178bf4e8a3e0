"""`meshgen env add|remove`: every file of an environment, in both GitOps engines.

The files come from the template the repository was written with, rendered for the
repository's recorded answers with the environment and without it; the difference
(cluster config, platform releases and values, AppProject destinations, ApplicationSet
elements, Flux cluster and app folders) is carried into the repository three-way. The
environment files of each app are copied from another environment, their host
rewritten, and meshgen.yaml gains or loses the entry.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import replace
from pathlib import Path
from typing import Any

from meshgen import yamlio
from meshgen.day2 import recorded, templates
from meshgen.day2.carry import Carried, carry, for_app, localize
from meshgen.day2.changes import Changeset
from meshgen.environment_file import EnvironmentFile
from meshgen.errors import ConfigError
from meshgen.repo import ENVIRONMENTS_DIR, MANIFEST_NAME, Environment
from meshgen.scaffold.answers import DNS_LABEL, RESERVED_NAMESPACES, _check_environments

# Files the template diff leaves alone: the manifest and the environment files are
# edited from the repository's own content, the charts do not depend on environments.
SKIPPED = (MANIFEST_NAME, f"{ENVIRONMENTS_DIR}/", "charts/")
# What EKS (and eksctl's schema, which meshgen.yaml's follows) accepts as a cluster name.
EKS_CLUSTER_NAME = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]{0,99}\Z")


def _rendered_pair(
    state: recorded.Recorded,
    before: tuple[Environment, ...],
    after: tuple[Environment, ...],
    template_cache: Path | None,
) -> Carried:
    answers = state.answers
    version = state.template_version
    everyone = {e.name: e for e in (*before, *after)}.values()
    renders = []
    for environments in (before, after):
        chosen = replace(answers, environments=tuple(e.name for e in environments))
        rendered = templates.render(chosen, version, template_cache)
        renders.append(localize(rendered, answers.name, everyone))
    base, theirs = renders
    labels = ("repository", "template before", "template after")
    carried = carry(state.root, base, theirs, skip=SKIPPED, labels=labels)
    primary = answers.app_name
    for app in state.repo.apps[1:]:
        carry(
            state.root,
            for_app(base, primary, app.name),
            for_app(theirs, primary, app.name),
            skip=SKIPPED,
            labels=labels,
            into=carried,
        )
    return carried


def _refuse_conflicts(carried: Carried, what: str) -> None:
    if carried.conflicts:
        raise ConfigError(
            f"refused, nothing changed: {what} does not apply cleanly to "
            f"{', '.join(carried.conflicts)} (edited by hand where the template changes); "
            "make the change by hand, or run `meshgen update` first"
        )


def _manifest_text(state: recorded.Recorded, edit: Any) -> str:
    tree = yamlio.loads_roundtrip(
        yamlio.read_text(state.repo.manifest_path), state.repo.manifest_path
    )
    edit(tree)
    return yamlio.dumps_roundtrip(tree)


def plan_add(
    root: Path,
    name: str,
    *,
    namespace: str | None = None,
    cluster: str | None = None,
    source: str | None = None,
    template_cache: Path | None = None,
) -> Changeset:
    state = recorded.read(root)
    repo = state.repo
    _check_environments((*(e.name for e in repo.environments), name))
    template_env = repo.environment(source) if source else repo.environments[0]
    if namespace is not None and not DNS_LABEL.match(namespace):
        raise ConfigError(f"--namespace: {namespace!r} is not a DNS label")
    if namespace is not None and namespace in {e.namespace for e in repo.environments}:
        raise ConfigError(f"--namespace: {namespace!r} is already an environment's namespace")
    if namespace in RESERVED_NAMESPACES:
        raise ConfigError(
            f"--namespace: {namespace!r} belongs to Kubernetes or the platform; an app "
            "namespace of its own keeps the app's policies apart from them"
        )
    sharing = [e.name for e in repo.environments if cluster is not None and e.cluster == cluster]
    if sharing:
        raise ConfigError(
            f"--cluster: {cluster!r} is already the cluster of {sharing[0]}, and env add "
            "writes a ClusterConfig of its own, which would create that cluster a second "
            "time; give another name (to share a cluster, edit `cluster:` in meshgen.yaml)"
        )
    if cluster is not None and not EKS_CLUSTER_NAME.match(cluster):
        raise ConfigError(
            f"--cluster: {cluster!r} is not an EKS cluster name (a letter, then letters, "
            "digits and '-', at most 100 characters)"
        )
    new = Environment(
        name=name,
        namespace=namespace or name,
        cluster=cluster or state.default_cluster(name),
    )
    after = (*repo.environments, new)
    carried = _rendered_pair(state, repo.environments, after, template_cache)
    _refuse_conflicts(carried, f"adding environment {name}")
    writes = dict(carried.writes)
    for app in repo.apps:
        source_path = repo.environment_file_path(template_env.name, app.name)
        if not source_path.is_file():
            raise ConfigError(
                f"environment {template_env.name!r} has no file for {app.name} to copy; "
                "choose another with --from",
                path=source_path,
            )
        values = EnvironmentFile.read(source_path).tree
        if isinstance(values, dict) and "host" in values:
            values["host"] = f"{app.name}.{name}.{state.answers.domain}"
        target = repo.environment_file_path(name, app.name).relative_to(repo.root).as_posix()
        writes[target] = yamlio.dumps_roundtrip(values)

    def add_entry(tree: Any) -> None:
        entry = yamlio.CommentedMap(recorded.environment_entry(new))
        tree["environments"].append(entry)

    writes[MANIFEST_NAME] = _manifest_text(state, add_entry)
    options = [
        *(["--namespace", namespace] if namespace else []),
        *(["--cluster", cluster] if cluster else []),
        *(["--from", source] if source else []),
    ]
    return Changeset(
        root=repo.root,
        subject=f"Add environment {name} (from {template_env.name})",
        command=shlex.join(["meshgen", "env", "add", name, *options]),
        writes=writes,
        deletes=tuple(carried.deletes),
        notes=tuple(f"left deleted (removed by hand): {p}" for p in carried.kept_deleted),
    )


def plan_remove(root: Path, name: str, *, template_cache: Path | None = None) -> Changeset:
    state = recorded.read(root)
    repo = state.repo
    gone = repo.environment(name)
    if len(repo.environments) == 1:
        raise ConfigError(f"{name} is the only environment; a repository needs one")
    remaining = tuple(e for e in repo.environments if e.name != name)
    carried = _rendered_pair(state, repo.environments, remaining, template_cache)
    _refuse_conflicts(carried, f"removing environment {name}")
    environment_folder = repo.root / ENVIRONMENTS_DIR / name
    deletes = [*carried.deletes]
    if environment_folder.is_dir():
        deletes += [
            p.relative_to(repo.root).as_posix()
            for p in sorted(environment_folder.rglob("*"))
            if p.is_file()
        ]

    def remove_entry(tree: Any) -> None:
        entries = tree["environments"]
        for index, entry in enumerate(list(entries)):
            if isinstance(entry, dict) and entry.get("name") == name:
                del entries[index]
        rails = tree.get("guardrails")
        if isinstance(rails, dict):
            order = rails.get("order")
            if isinstance(order, list) and name in order:
                order.remove(name)
            steps = rails.get("maxStep")
            if isinstance(steps, dict) and name in steps:
                del steps[name]

    writes = dict(carried.writes)
    writes[MANIFEST_NAME] = _manifest_text(state, remove_entry)
    return Changeset(
        root=repo.root,
        subject=f"Remove environment {name}",
        command=shlex.join(["meshgen", "env", "remove", name]),
        writes=writes,
        deletes=tuple(deletes),
        notes=(
            f"the cluster {gone.cluster} itself is not deleted: "
            f"`eksctl delete cluster -f cluster/{name}.yaml` (before merging) does that",
        ),
    )

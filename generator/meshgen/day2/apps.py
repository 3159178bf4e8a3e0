"""`meshgen app add NAME`: a second canary service beside the first.

The app gets its own copy of the repository's canary chart (charts/NAME, chart and
`appName` renamed), an environment file in every environment (the default profile of
`meshgen new`, host NAME.<env>.<domain>), the GitOps wiring of the first app copied
under its name for the repository's engine, and an entry in meshgen.yaml. It leaves the
environment's namespace (and its namespace-wide PeerAuthentication) to whoever owns it
(`namespace.create: false`), so no object belongs to two apps.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from meshgen import resources, yamlio
from meshgen.day2 import recorded
from meshgen.day2.carry import token
from meshgen.day2.changes import Changeset
from meshgen.environment_file import EnvironmentFile
from meshgen.errors import ConfigError
from meshgen.repo import MANIFEST_NAME, Repo
from meshgen.scaffold.answers import DNS_LABEL, RESERVED_NAMESPACES, label_reading
from meshgen.scaffold.create import profile_for
from meshgen.traffic.steps.versions import _IMAGE_REPOSITORY, _IMAGE_TAG

GITOPS_DIR = "gitops"
_VERSION_ITEM = re.compile(r"^([a-z][-a-z0-9]*)(?:=(.+))?\Z")


def _versions(spec: str | None, image: str | None) -> dict[str, tuple[str, str]] | None:
    """`v1,v2=1.1` as {version: (repository, tag)}; the tag defaults to the version name."""
    if spec is None:
        return None
    versions: dict[str, tuple[str, str]] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        match = _VERSION_ITEM.match(item)
        if match is None or not DNS_LABEL.match(match[1]):
            raise ConfigError(f"--versions: {item!r} is not VERSION or VERSION=TAG, e.g. v1=1.0")
        tag = match[2] or match[1]
        if not _IMAGE_TAG.match(tag):
            raise ConfigError(f"--versions: {tag!r} is not an image tag")
        if tag.lower() == "latest":
            # As `versions add` refuses it, and validate's MG113 warns of it.
            raise ConfigError(
                f"--versions: {item!r}: 'latest' can change under a running version; give a "
                "release tag such as v1=1.0"
            )
        if match[1] in versions:
            raise ConfigError(f"--versions: {match[1]} is given twice")
        versions[match[1]] = (image or "", tag)
    if not versions:
        raise ConfigError("--versions: give at least one version, e.g. v1")
    return versions


def _chart(repo: Repo, name: str) -> dict[str, str]:
    """The first app's chart, copied under the new app's name."""
    source = repo.chart_path(repo.apps[0])
    if not source.is_dir():
        raise ConfigError(f"{repo.apps[0].chart} is missing; nothing to copy the chart from")
    files: dict[str, str] = {}
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        relative = path.relative_to(source).as_posix()
        text = path.read_text(encoding="utf-8")
        files[f"charts/{name}/{relative}"] = renamed_chart_file(
            relative, text, repo.apps[0].name, name
        )
    return files


def renamed_chart_file(relative: str, text: str, old: str, new: str) -> str:
    """A file of app `old`'s chart as app `new`'s copy holds it."""
    if relative == "Chart.yaml":
        return re.sub(r"(?m)^name:.*$", f"name: {new}", text, count=1)
    if relative == "values.yaml":
        text = re.sub(r"(?m)^appName:.*$", f"appName: {new}", text, count=1)
        return text.replace(f"x-{old}-version", f"x-{new}-version")
    return text


def charts_for_app(tree: dict[str, str], old: str, new: str) -> dict[str, str]:
    """The chart files of a render, as app `new`'s chart copy (charts/NEW) holds them."""
    prefix = f"charts/{old}/"
    return {
        f"charts/{new}/{path.removeprefix(prefix)}": renamed_chart_file(
            path.removeprefix(prefix), text, old, new
        )
        for path, text in tree.items()
        if path.startswith(prefix)
    }


def _environment_file(
    state: recorded.Recorded,
    name: str,
    environment: str,
    versions: dict[str, tuple[str, str]] | None,
    image: str | None,
    port: int | None,
) -> str:
    source = resources.environments_dir() / "defaults" / f"{profile_for(environment)}.yaml"
    text = token(state.answers.app_name).sub(name, yamlio.read_text(source))
    text = token("first-app").sub(name, text)
    tree: Any = EnvironmentFile.parse(text, source).tree
    tree["host"] = f"{name}.{environment}.{state.answers.domain}"
    tree.insert(0, "appName", name)
    tree.insert(1, "namespace", yamlio.CommentedMap({"create": False}))
    tree.yaml_set_comment_before_after_key(
        "namespace",
        before="The namespace belongs to the GitOps layer (or to the first app's release).",
    )
    tree.insert(3, "routing", yamlio.CommentedMap({"versionHeader": f"x-{name}-version"}))
    if port is not None:
        tree.insert(4, "service", yamlio.CommentedMap({"targetPort": port}))
    if versions is not None:
        defaults = list(tree["versions"].values())
        replicas = defaults[0].get("replicas", 1) if defaults else 1
        tree["versions"] = yamlio.CommentedMap(
            (
                version,
                yamlio.CommentedMap(
                    image=yamlio.CommentedMap(
                        repository=repository or str(defaults[0]["image"]["repository"]),
                        tag=tag,
                    ),
                    replicas=replicas,
                ),
            )
            for version, (repository, tag) in versions.items()
        )
        names = list(versions)
        tree["traffic"] = yamlio.CommentedMap((v, 100 if v == names[0] else 0) for v in names)
    elif image is not None:
        for entry in tree["versions"].values():
            entry["image"]["repository"] = image
    return yamlio.dumps_roundtrip(tree)


def _wiring(repo: Repo, name: str) -> dict[str, str]:
    """The first app's GitOps files (its name in their path), copied under `name`."""
    primary = token(repo.apps[0].name)
    files: dict[str, str] = {}
    folder = repo.root / GITOPS_DIR
    for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
        relpath = path.relative_to(repo.root).as_posix()
        if path.is_file() and primary.search(relpath):
            files[primary.sub(name, relpath)] = primary.sub(name, path.read_text(encoding="utf-8"))
    if not files:
        raise ConfigError(
            f"no GitOps file of {repo.apps[0].name} under {GITOPS_DIR}/ to copy the wiring from"
        )
    return files


def plan_add(
    root: Path,
    name: str,
    *,
    image: str | None = None,
    port: int | None = None,
    versions_spec: str | None = None,
) -> Changeset:
    state = recorded.read(root)
    repo = state.repo
    if not DNS_LABEL.match(name) or len(name) > 40:
        raise ConfigError(f"{name!r} is not an app name: a DNS label of at most 40 characters")
    reads_as = label_reading(name)
    if reads_as is not None:
        raise ConfigError(
            f"{name!r} would be read by YAML (and Helm) as {reads_as}, not as a name; "
            f"choose another, e.g. app-{name}"
        )
    if name in {a.name for a in repo.apps} or name in RESERVED_NAMESPACES:
        raise ConfigError(f"{name!r} is already taken; choose another app name")
    if image is not None and not _IMAGE_REPOSITORY.match(image):
        raise ConfigError(f"--image: {image!r} is not an image repository, e.g. ghcr.io/acme/app")
    if port is not None and not 1 <= port <= 65535:
        raise ConfigError(f"--port: {port} is not a port number (1..65535)")
    versions = _versions(versions_spec, image)
    writes = _chart(repo, name)
    writes.update(_wiring(repo, name))
    for environment in repo.environments:
        path = repo.environment_file_path(environment.name, name).relative_to(repo.root).as_posix()
        writes[path] = _environment_file(state, name, environment.name, versions, image, port)
    taken = [p for p in writes if (repo.root / p).exists()]
    if taken:
        raise ConfigError(f"{taken[0]} already exists; remove it or choose another app name")

    tree = state.manifest
    tree["apps"].append(yamlio.CommentedMap(name=name, chart=f"charts/{name}"))
    writes[MANIFEST_NAME] = yamlio.dumps_roundtrip(tree)
    options = [
        *(["--image", image] if image else []),
        *(["--port", str(port)] if port else []),
        *(["--versions", versions_spec] if versions_spec else []),
    ]
    return Changeset(
        root=repo.root,
        subject=f"Add app {name}",
        command=shlex.join(["meshgen", "app", "add", name, *options]),
        writes=writes,
    )
